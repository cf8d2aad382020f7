import { describe, expect, it } from 'vitest';
import { evaluateFilter, type FilterContext } from '../../src/filter/evaluate.js';
import { FilterSchema, type Filter } from '../../src/filter/schema.js';

const user = {
  plan: 'pro',
  age: 34,
  score: 0,
  vip: true,
  optedOut: false,
  nickname: null,
  country: 'US',
  email: 'ada@example.com',
  tags: ['beta', 'early', 7],
  signedUpAt: '2024-03-01T10:00:00Z',
  renewsOn: '2024-06-30',
  lastSeen: new Date('2024-05-01T12:00:00Z'),
  address: { city: 'Berlin', geo: { lat: 52.5 } },
  orders: [{ sku: 'A1' }],
};
const event = { source: 'web', amount: 42.5, item: 'Hat', coupon: 'SPRING24', at: '2024-05-02T00:00:00+02:00' };
const context: FilterContext = { user, event };

function matches(filter: Filter, ctx: FilterContext = context): boolean {
  // Every filter under test must also be one the schema accepts, so the evaluator is tested on real input.
  FilterSchema.parse(filter);
  return evaluateFilter(filter, ctx);
}

describe('operators on user attributes', () => {
  it.each<[string, Filter, boolean]>([
    ['eq string', { attr: 'plan', op: 'eq', value: 'pro' }, true],
    ['eq string, other value', { attr: 'plan', op: 'eq', value: 'free' }, false],
    ['eq number', { attr: 'age', op: 'eq', value: 34 }, true],
    ['eq zero', { attr: 'score', op: 'eq', value: 0 }, true],
    ['eq boolean', { attr: 'vip', op: 'eq', value: true }, true],
    ['eq false boolean', { attr: 'optedOut', op: 'eq', value: false }, true],
    ['ne', { attr: 'plan', op: 'ne', value: 'free' }, true],
    ['ne, same value', { attr: 'plan', op: 'ne', value: 'pro' }, false],
    ['gt', { attr: 'age', op: 'gt', value: 30 }, true],
    ['gt, equal', { attr: 'age', op: 'gt', value: 34 }, false],
    ['gte, equal', { attr: 'age', op: 'gte', value: 34 }, true],
    ['lt', { attr: 'age', op: 'lt', value: 34 }, false],
    ['lte, equal', { attr: 'age', op: 'lte', value: 34 }, true],
    ['lt fractional', { attr: 'address.geo.lat', op: 'lt', value: 52.6 }, true],
    ['in', { attr: 'country', op: 'in', value: ['US', 'CA'] }, true],
    ['in, absent from list', { attr: 'country', op: 'in', value: ['DE', 'FR'] }, false],
    ['nin', { attr: 'country', op: 'nin', value: ['DE', 'FR'] }, true],
    ['nin, present in list', { attr: 'country', op: 'nin', value: ['US'] }, false],
    ['in with a list attribute (any member)', { attr: 'tags', op: 'in', value: ['early', 'late'] }, true],
    ['nin with a list attribute', { attr: 'tags', op: 'nin', value: ['late'] }, true],
    ['exists true', { attr: 'email', op: 'exists', value: true }, true],
    ['exists false on present', { attr: 'email', op: 'exists', value: false }, false],
    ['exists on false boolean', { attr: 'optedOut', op: 'exists', value: true }, true],
    ['contains substring', { attr: 'email', op: 'contains', value: '@example.' }, true],
    ['contains substring, case-sensitive', { attr: 'email', op: 'contains', value: 'ADA' }, false],
    ['contains list member', { attr: 'tags', op: 'contains', value: 'beta' }, true],
    ['contains numeric list member', { attr: 'tags', op: 'contains', value: 7 }, true],
    ['contains missing list member', { attr: 'tags', op: 'contains', value: 'gamma' }, false],
  ])('%s', (_name, filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });
});

describe('event properties', () => {
  it.each<[string, Filter, boolean]>([
    ['eq', { prop: 'source', op: 'eq', value: 'web' }, true],
    ['ne', { prop: 'source', op: 'ne', value: 'test' }, true],
    ['gte', { prop: 'amount', op: 'gte', value: 42.5 }, true],
    ['contains', { prop: 'coupon', op: 'contains', value: 'SPRING' }, true],
    ['missing property', { prop: 'referrer', op: 'exists', value: false }, true],
  ])('%s', (_name, filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it('reads no event when there is none: only negative tests hold', () => {
    const noEvent = { user };
    expect(matches({ prop: 'source', op: 'eq', value: 'web' }, noEvent)).toBe(false);
    expect(matches({ prop: 'source', op: 'ne', value: 'web' }, noEvent)).toBe(true);
    expect(matches({ prop: 'source', op: 'exists', value: false }, noEvent)).toBe(true);
  });

  it('does not mix user attributes and event properties', () => {
    expect(matches({ attr: 'source', op: 'exists', value: true })).toBe(false);
    expect(matches({ prop: 'plan', op: 'exists', value: true })).toBe(false);
  });
});

describe('combinators', () => {
  const isPro: Filter = { attr: 'plan', op: 'eq', value: 'pro' };
  const isFree: Filter = { attr: 'plan', op: 'eq', value: 'free' };

  it('all needs every child', () => {
    expect(matches({ all: [isPro, { attr: 'age', op: 'gt', value: 18 }] })).toBe(true);
    expect(matches({ all: [isPro, isFree] })).toBe(false);
  });

  it('any needs one child', () => {
    expect(matches({ any: [isFree, isPro] })).toBe(true);
    expect(matches({ any: [isFree, { attr: 'age', op: 'lt', value: 18 }] })).toBe(false);
  });

  it('not negates', () => {
    expect(matches({ not: isFree })).toBe(true);
    expect(matches({ not: isPro })).toBe(false);
  });

  it('empty all is true and empty any is false', () => {
    expect(matches({ all: [] })).toBe(true);
    expect(matches({ any: [] })).toBe(false);
  });

  it('nests', () => {
    const filter: Filter = {
      all: [
        { any: [isFree, { attr: 'address.city', op: 'in', value: ['Berlin', 'Paris'] }] },
        {
          not: {
            any: [
              { prop: 'source', op: 'eq', value: 'test' },
              { attr: 'optedOut', op: 'eq', value: true },
            ],
          },
        },
      ],
    };
    expect(matches(filter)).toBe(true);
    expect(matches(filter, { user: { ...user, optedOut: true }, event })).toBe(false);
  });
});

describe('missing values', () => {
  // `nickname` is null and `middleName` absent: both count as missing.
  it.each<[string, Filter, boolean]>([
    ['eq', { attr: 'middleName', op: 'eq', value: 'x' }, false],
    ['gt', { attr: 'middleName', op: 'gt', value: 1 }, false],
    ['gte', { attr: 'middleName', op: 'gte', value: 1 }, false],
    ['lt', { attr: 'middleName', op: 'lt', value: 1 }, false],
    ['lte', { attr: 'middleName', op: 'lte', value: 1 }, false],
    ['in', { attr: 'middleName', op: 'in', value: ['x'] }, false],
    ['contains', { attr: 'middleName', op: 'contains', value: 'x' }, false],
    ['exists true', { attr: 'middleName', op: 'exists', value: true }, false],
    ['ne', { attr: 'middleName', op: 'ne', value: 'x' }, true],
    ['nin', { attr: 'middleName', op: 'nin', value: ['x'] }, true],
    ['exists false', { attr: 'middleName', op: 'exists', value: false }, true],
    ['not eq', { not: { attr: 'middleName', op: 'eq', value: 'x' } }, true],
    ['null eq', { attr: 'nickname', op: 'eq', value: 'x' }, false],
    ['null exists false', { attr: 'nickname', op: 'exists', value: false }, true],
    ['null ne', { attr: 'nickname', op: 'ne', value: 'x' }, true],
    ['missing parent of a nested path', { attr: 'billing.city', op: 'eq', value: 'Berlin' }, false],
    ['nested path through a scalar', { attr: 'plan.name', op: 'exists', value: false }, true],
  ])('%s', (_name, filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });
});

describe('type mismatches never throw and fail positive tests', () => {
  it.each<[string, Filter, boolean]>([
    ['number attribute eq numeric string', { attr: 'age', op: 'eq', value: '34' }, false],
    ['string attribute gt number', { attr: 'plan', op: 'gt', value: 3 }, false],
    ['number attribute gt date', { attr: 'age', op: 'gt', value: '2024-01-01' }, false],
    ['boolean attribute lt number', { attr: 'vip', op: 'lt', value: 2 }, false],
    ['object attribute eq string', { attr: 'address', op: 'eq', value: 'Berlin' }, false],
    ['list attribute eq member', { attr: 'tags', op: 'eq', value: 'beta' }, false],
    ['number attribute contains', { attr: 'age', op: 'contains', value: '3' }, false],
    ['string contains number', { attr: 'email', op: 'contains', value: 1 }, false],
    ['number attribute ne numeric string', { attr: 'age', op: 'ne', value: '34' }, true],
  ])('%s', (_name, filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it('survives hostile attribute values', () => {
    const hostile = { user: { weird: Symbol('s'), big: 10n, fn: () => 1, nan: Number.NaN, bad: new Date('nope') } };
    for (const attr of ['weird', 'big', 'fn', 'nan', 'bad']) {
      for (const op of ['eq', 'gt', 'contains', 'in'] as const) {
        const value = op === 'in' ? [1] : 1;
        expect(() => evaluateFilter({ attr, op, value }, hostile)).not.toThrow();
      }
    }
    expect(evaluateFilter({ attr: 'nan', op: 'gt', value: 1 }, hostile)).toBe(false);
    expect(evaluateFilter({ attr: 'bad', op: 'lt', value: '2030-01-01' }, hostile)).toBe(false);
  });

  it('does not follow prototype properties', () => {
    expect(matches({ attr: 'constructor', op: 'exists', value: true }, { user: {} })).toBe(false);
    expect(matches({ attr: 'address.toString', op: 'exists', value: true })).toBe(false);
  });
});

describe('dates', () => {
  it.each<[string, Filter, boolean]>([
    ['ISO string after a date-time', { attr: 'signedUpAt', op: 'gt', value: '2024-02-29T23:59:59Z' }, true],
    ['ISO string before a date-time', { attr: 'signedUpAt', op: 'lt', value: '2024-02-29T23:59:59Z' }, false],
    ['instants compared across offsets', { attr: 'signedUpAt', op: 'eq', value: '2024-03-01T12:00:00+02:00' }, true],
    ['date-only value', { attr: 'signedUpAt', op: 'gte', value: '2024-03-01' }, true],
    ['date-only attribute', { attr: 'renewsOn', op: 'lte', value: '2024-06-30T00:00:00Z' }, true],
    ['Date attribute vs string', { attr: 'lastSeen', op: 'gt', value: '2024-05-01T11:59:59Z' }, true],
    ['Date attribute eq same instant', { attr: 'lastSeen', op: 'eq', value: '2024-05-01T14:00:00+02:00' }, true],
    ['Date attribute in list', { attr: 'lastSeen', op: 'in', value: ['2024-05-01T12:00:00.000Z'] }, true],
    ['event date with offset', { prop: 'at', op: 'lt', value: '2024-05-01T23:00:00Z' }, true],
    ['non-date strings are not compared', { attr: 'plan', op: 'lt', value: '2024-01-01' }, false],
  ])('%s', (_name, filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });
});

describe('the Filter type', () => {
  it('is derived from the schema and rejects what the schema rejects', () => {
    // @ts-expect-error unknown operator
    const badOperator: Filter = { attr: 'plan', op: 'like', value: 'pro' };
    // @ts-expect-error a condition needs attr or prop
    const noSubject: Filter = { op: 'eq', value: 1 };
    const nested: Filter = { all: [{ not: { any: [{ prop: 'x', op: 'exists', value: true }] } }] };
    expect(FilterSchema.safeParse(badOperator).success).toBe(false);
    expect(FilterSchema.safeParse(noSubject).success).toBe(false);
    expect(FilterSchema.safeParse(nested).success).toBe(true);
  });
});

describe('nested paths', () => {
  it('reads objects and array indexes', () => {
    expect(matches({ attr: 'address.city', op: 'eq', value: 'Berlin' })).toBe(true);
    expect(matches({ attr: 'address.geo.lat', op: 'gt', value: 50 })).toBe(true);
    expect(matches({ attr: 'orders.0.sku', op: 'eq', value: 'A1' })).toBe(true);
    expect(matches({ attr: 'orders.1.sku', op: 'exists', value: false })).toBe(true);
  });
});
