import type { z } from 'zod';
import type { ValidationIssue } from '../journey/issues.js';

/**
 * What the engine stores must be storable as it is, the rule being what MongoDB itself stores: a value
 * accepted at the edge and refused (or silently changed) by the store later would fail a worker's write on
 * every retry, or make two ids one. These checks run on parsed JSON before anything is written.
 */

/**
 * Deepest nesting of objects and arrays a stored value may have. MongoDB refuses documents nested deeper than
 * 100 levels and the values sit a few levels down (a journey's definition, a user's attributes, an event's
 * properties kept with a journey state); recursive validation of deeper input would also risk the stack.
 */
export const MAX_NESTING_DEPTH = 64;

/**
 * A UTF-16 surrogate without its pair. Strings reach the stores as UTF-8, which cannot hold one: the drivers
 * replace it with U+FFFD, so "a\uD800" and "a\uDC00" would both be stored as "a\uFFFD". With the `u` flag a
 * well-formed pair is one code point, so only lone halves match.
 */
const LONE_SURROGATE = /\p{Cs}/u;

export const LONE_SURROGATE_RULE =
  'must not contain a lone UTF-16 surrogate (\\uD800-\\uDFFF without its pair): it cannot be stored as UTF-8';

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** `schema` refusing strings with a lone surrogate: for ids and names, which must not be changed on the way. */
export function withoutLoneSurrogates<S extends z.ZodType<string>>(schema: S) {
  return schema.refine((text) => !hasLoneSurrogate(text), LONE_SURROGATE_RULE);
}

/** A node of an iterative walk: its path is kept as parent links and spelled out only for a problem. */
interface WalkedNode {
  value: object;
  key: string;
  parent: WalkedNode | null;
  depth: number;
}

function pathOf(node: WalkedNode, key?: string): string {
  const keys = key === undefined ? [] : [key];
  for (let current: WalkedNode | null = node; current?.parent; current = current.parent) keys.push(current.key);
  return keys.reverse().join('.');
}

function tooDeepIssue(node: WalkedNode): ValidationIssue {
  return { path: pathOf(node), message: `is nested too deeply: at most ${MAX_NESTING_DEPTH} levels of objects and arrays` };
}

/**
 * Walks `value`'s objects and arrays depth first, calling `visit` with each one's keys; returns the first node
 * deeper than `MAX_NESTING_DEPTH`, or null. Iterative, so it is safe on any parsed JSON, and it allocates
 * nothing per primitive: it runs on every ingested event.
 */
function walkObjects(value: unknown, visit?: (node: WalkedNode, keys: string[]) => void): WalkedNode | null {
  if (value === null || typeof value !== 'object') return null;
  const pending: WalkedNode[] = [{ value, key: '', parent: null, depth: 0 }];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.depth >= MAX_NESTING_DEPTH) return node;
    const keys = Object.keys(node.value);
    visit?.(node, keys);
    for (const key of keys) {
      const child: unknown = (node.value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object') pending.push({ value: child, key, parent: node, depth: node.depth + 1 });
    }
  }
  return null;
}

/**
 * Where `value` nests deeper than `MAX_NESTING_DEPTH` objects and arrays, or null. Check it before anything
 * recursive (validation, the BSON encoder) sees the input.
 */
export function nestingIssue(value: unknown): ValidationIssue | null {
  const tooDeep = walkObjects(value);
  return tooDeep ? tooDeepIssue(tooDeep) : null;
}

function fieldNameProblem(key: string): string | null {
  if (key.startsWith('$') || key.includes('.') || key.includes('\u0000')) {
    return `field name ${JSON.stringify(key)} cannot be stored: it must not start with "$" or contain "." or NUL`;
  }
  if (hasLoneSurrogate(key)) return `field name ${LONE_SURROGATE_RULE}`;
  return null;
}

/**
 * What MongoDB does not store as given although it is valid JSON: field names starting with "$" or holding
 * "." or NUL (the update paths the stores write cannot address them), strings with a lone surrogate (changed
 * on the way), and nesting deeper than `MAX_NESTING_DEPTH`. Nested arrays are storable. Returned as
 * validation issues at dotted paths, so they reach the client as a 400, never as a failed write.
 */
export function unstorableIssues(value: unknown): ValidationIssue[] {
  if (typeof value === 'string') return hasLoneSurrogate(value) ? [{ path: '', message: LONE_SURROGATE_RULE }] : [];
  const issues: ValidationIssue[] = [];
  const tooDeep = walkObjects(value, (node, keys) => {
    const isArray = Array.isArray(node.value);
    for (const key of keys) {
      const problem = isArray ? null : fieldNameProblem(key);
      if (problem) issues.push({ path: pathOf(node, key), message: problem });
      const child: unknown = (node.value as Record<string, unknown>)[key];
      if (typeof child === 'string' && hasLoneSurrogate(child)) issues.push({ path: pathOf(node, key), message: LONE_SURROGATE_RULE });
    }
  });
  return tooDeep ? [tooDeepIssue(tooDeep)] : issues;
}
