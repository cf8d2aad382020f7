import type { z } from 'zod';
import { isRecord } from '../data/is-record.js';

/** One problem in a submitted document, as the API reports it (`details` of a 400). */
export interface ValidationIssue {
  /** Dotted path from the document root, e.g. `steps.split.branches.0.next`; `""` for the root. */
  path: string;
  message: string;
}

type PathSegment = PropertyKey;

/**
 * Messages for zod's generic issues, worded for someone editing a journey document. Schema-specific
 * messages (set on the schemas themselves) take precedence over these.
 */
export const journeyErrorMap: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${article(issue.expected)}, not ${describe(issue.input)}`;
    case 'invalid_value':
      if (issue.input === undefined) return `is required: ${oneOf(issue.values)}`;
      return issue.values.length === 1 ? `must be ${JSON.stringify(issue.values[0])}` : `must be ${oneOf(issue.values)}`;
    case 'too_small':
      if (issue.origin === 'array') return `needs at least ${issue.minimum} item(s)`;
      if (issue.origin === 'string')
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must be at least ${issue.minimum} characters`;
      return `must be ${issue.inclusive === false ? 'greater than' : 'at least'} ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `may have at most ${issue.maximum} item(s)`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters`;
      return `must be ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}`;
    default:
      return undefined;
  }
};

function oneOf(values: readonly unknown[]): string {
  return `one of ${values.map((value) => JSON.stringify(value)).join(', ')}`;
}

function article(expected: string): string {
  return expected === 'object' || expected === 'array' ? `an ${expected}` : `a ${expected}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  // Only primitives are left here: objects, arrays and null were described above.
  return `${typeof value} ${String(value as number | boolean | bigint | symbol | undefined)}`;
}

/**
 * Parses `input` and, when it fails, reports its issues with `journeyErrorMap`'s messages. The map is given only
 * to the second parse of a failed input: zod runs a parse given an error map about three times slower, and nearly
 * every input an API receives is valid.
 */
export function parseReportingIssues<T>(
  schema: z.ZodType<T>,
  input: unknown,
): { ok: true; value: T } | { ok: false; issues: ValidationIssue[] } {
  const fast = schema.safeParse(input);
  if (fast.success) return { ok: true, value: fast.data };
  const reported = schema.safeParse(input, { error: journeyErrorMap });
  // Only a schema that parses differently on the same input could succeed here; its first answer stands.
  const issues = reported.success ? fast.error.issues : reported.error.issues;
  return { ok: false, issues: toValidationIssues(issues, input) };
}

export function formatPath(path: readonly PathSegment[]): string {
  return path.map((segment) => String(segment)).join('.');
}

/**
 * Flattens zod issues into `{ path, message }` pairs:
 * - an unknown key is reported at its own path (`steps.wait.foo`), one issue per key;
 * - a failed union of object shapes (a filter) reports the problems of the shape the input was
 *   evidently meant to be (the one whose keys it shares), instead of every alternative's;
 * - a bad record key reports the key's own problem.
 * `input` is the document that was parsed, used to see what the author wrote at a union's path.
 */
export function toValidationIssues(issues: readonly z.core.$ZodIssue[], input: unknown): ValidationIssue[] {
  const result: ValidationIssue[] = [];
  collect(issues, [], input, result);
  return dedupe(result);
}

function collect(issues: readonly z.core.$ZodIssue[], base: readonly PathSegment[], input: unknown, out: ValidationIssue[]): void {
  for (const issue of issues) {
    const path = [...base, ...issue.path];
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const key of issue.keys) out.push({ path: formatPath([...path, key]), message: `unknown field "${key}"` });
        break;
      case 'invalid_union': {
        const intended = intendedAlternative(issue.errors, valueAt(input, path));
        if (intended === null) out.push({ path: formatPath(path), message: issue.message });
        else collect(intended, path, input, out);
        break;
      }
      case 'invalid_key':
        for (const keyIssue of issue.issues) out.push({ path: formatPath(path), message: `invalid key: ${keyIssue.message}` });
        break;
      default:
        out.push({ path: formatPath(path), message: issue.message });
    }
  }
}

/**
 * The alternative that recognises most of the input's keys, when the input is an object sharing at
 * least one key with some alternative; null when there is no such evidence (then the union's own
 * message, which lists the accepted shapes, is the most useful thing to say).
 */
function intendedAlternative(alternatives: readonly (readonly z.core.$ZodIssue[])[], value: unknown): readonly z.core.$ZodIssue[] | null {
  if (!isRecord(value) || alternatives.length === 0) return null;
  const keyCount = Object.keys(value).length;
  let best: readonly z.core.$ZodIssue[] | null = null;
  let bestUnknown = Number.POSITIVE_INFINITY;
  for (const issues of alternatives) {
    const rootUnknown = issues
      .filter((issue) => issue.code === 'unrecognized_keys' && issue.path.length === 0)
      .reduce((count, issue) => count + (issue.code === 'unrecognized_keys' ? issue.keys.length : 0), 0);
    const rootNotObject = issues.some((issue) => issue.code === 'invalid_type' && issue.path.length === 0);
    if (rootNotObject || rootUnknown >= keyCount) continue;
    if (rootUnknown < bestUnknown || (rootUnknown === bestUnknown && best !== null && issues.length < best.length)) {
      best = issues;
      bestUnknown = rootUnknown;
    }
  }
  return best;
}

function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.path}\u0000${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
