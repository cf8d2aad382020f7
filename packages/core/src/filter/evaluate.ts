import { readPath } from '../data/read-path.js';
import { toInstant } from './date-value.js';
import type { Filter, FilterOperator } from './schema.js';

export interface FilterContext {
  /** The user's attributes, read by `attr` conditions. */
  user: Readonly<Record<string, unknown>>;
  /** The properties of the event being handled, read by `prop` conditions; absent outside an event. */
  event?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * Whether the filter matches. Never throws, whatever the attribute values are.
 *
 * - A missing value (absent or null) fails every positive test: only `ne`, `nin`, `exists: false`
 *   and `not` can be true for it.
 * - Mismatched types fail positive tests (`eq`, `gt`..`lte`, `in`, `contains`): `30` is not `"30"`,
 *   and `"abc" gt 5` is false. `ne` and `nin` are exactly their negations, so they hold.
 * - When both sides read as dates (ISO strings or `Date`s) they are compared as instants.
 * - `in`/`nin` against a list attribute test whether any member is in the given list.
 * - `all: []` is true, `any: []` is false.
 */
export function evaluateFilter(filter: Filter, context: FilterContext): boolean {
  if ('all' in filter) return filter.all.every((child) => evaluateFilter(child, context));
  if ('any' in filter) return filter.any.some((child) => evaluateFilter(child, context));
  if ('not' in filter) return !evaluateFilter(filter.not, context);
  const actual = 'attr' in filter ? readPath(context.user, filter.attr) : readPath(context.event, filter.prop);
  return evaluateCondition(filter.op, actual, filter.value);
}

export function evaluateCondition(op: FilterOperator, actual: unknown, expected: unknown): boolean {
  const present = actual !== undefined && actual !== null;
  switch (op) {
    case 'exists':
      return expected === present;
    case 'ne':
      return !(present && equals(actual, expected));
    case 'nin':
      return !(present && isIn(actual, expected));
    case 'eq':
      return present && equals(actual, expected);
    case 'in':
      return present && isIn(actual, expected);
    case 'contains':
      return present && contains(actual, expected);
    case 'gt':
      return present && compareOrdered(actual, expected, (order) => order > 0);
    case 'gte':
      return present && compareOrdered(actual, expected, (order) => order >= 0);
    case 'lt':
      return present && compareOrdered(actual, expected, (order) => order < 0);
    case 'lte':
      return present && compareOrdered(actual, expected, (order) => order <= 0);
  }
}

function equals(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected) || Array.isArray(actual)) return false;
  if (actual === expected) return true;
  const actualInstant = toInstant(actual);
  const expectedInstant = toInstant(expected);
  return actualInstant !== null && actualInstant === expectedInstant;
}

function isIn(actual: unknown, expected: unknown): boolean {
  if (!Array.isArray(expected)) return false;
  const members: readonly unknown[] = Array.isArray(actual) ? actual : [actual];
  return members.some((member) => expected.some((candidate) => equals(member, candidate)));
}

function contains(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'string') return typeof expected === 'string' && actual.includes(expected);
  if (Array.isArray(actual)) return actual.some((member) => equals(member, expected));
  return false;
}

function compareOrdered(actual: unknown, expected: unknown, holds: (order: number) => boolean): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Number.isFinite(actual) && Number.isFinite(expected) && holds(actual - expected);
  }
  const actualInstant = toInstant(actual);
  const expectedInstant = toInstant(expected);
  if (actualInstant === null || expectedInstant === null) return false;
  return holds(actualInstant - expectedInstant);
}
