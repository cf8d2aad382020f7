import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sharedTestApp, uniqueUserId } from './helpers.js';
import { call, recordsOf } from './ingest-helpers.js';

/** `count` entries named `<prefix><index>`, each holding `value`. */
const entries = (count: number, value: unknown = 1, prefix = 'a') =>
  Object.fromEntries(Array.from({ length: count }, (_, index) => [`${prefix}${index}`, value]));

/** The request, and how long it took to answer. */
async function timed(request: Promise<LightMyRequestResponse>): Promise<{ response: LightMyRequestResponse; ms: number }> {
  const started = performance.now();
  const response = await request;
  return { response, ms: performance.now() - started };
}

function expectRefused(response: LightMyRequestResponse, path: string, message: RegExp): void {
  expect(response.statusCode, response.body.slice(0, 500)).toBe(400);
  expect(response.json().details).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(message) }]));
}

// A request near the limits answers in seconds at most, even on a machine busy with every other test file (alone
// they take under a second). Unbounded, 50,000 attributes would hold PUT /v1/users/:id for minutes: the store's
// update grows with the square of the fields it sets.
const FAST_MS = 15_000;
/** Longer than FAST_MS, so a slow answer fails on its time, not on the test's timeout. */
const SLOW_TEST_MS = 60_000;

describe('user attributes are bounded', () => {
  const t = sharedTestApp();
  const stored = async (userId: string) =>
    (await t.deps.mongo.db.collection<{ _id: string; attributes: Record<string, unknown> }>('users').findOne({ _id: userId }))?.attributes;

  it(
    'refuses 50,000 attributes (under the body limit) with 400, at once, and stores nothing',
    async () => {
      const userId = uniqueUserId('bounds');
      const { response, ms } = await timed(call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: entries(50_000) } }));
      expectRefused(response, 'body.attributes', /at most 500 attributes/);
      expect(ms).toBeLessThan(FAST_MS);
      expect(await stored(userId)).toBeUndefined();
    },
    SLOW_TEST_MS,
  );

  it(
    'lists the first 100 of 20,000 bad attribute names, and says how many there were',
    async () => {
      const { response, ms } = await timed(
        call(t.app, 'PUT', `/v1/users/${uniqueUserId('bounds')}`, { payload: { attributes: entries(20_000, 1, '-') } }),
      );
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error).toMatch(/the first 100 of 20000 problems/);
      expect(body.details).toHaveLength(100);
      expect(ms).toBeLessThan(FAST_MS);
    },
    SLOW_TEST_MS,
  );

  it('refuses a value over 8 KiB as JSON, naming the attribute', async () => {
    const userId = uniqueUserId('bounds');
    const response = await call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: { ok: 1, bio: 'x'.repeat(8 * 1024) } } });
    expectRefused(response, 'body.attributes.bio', /at most 8 KiB/);
    expect(await stored(userId)).toBeUndefined();
  });

  it(
    'answers fast near the limits, and keeps a user at 500 attributes across requests',
    async () => {
      const userId = uniqueUserId('bounds');
      // 500 attributes of almost 4 KiB each: near the default 2 MiB body limit too.
      const full = entries(500, 'v'.repeat(3_900));
      const first = await timed(call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: full } }));
      expect(first.response.statusCode, first.response.body.slice(0, 300)).toBe(200);
      expect(first.ms).toBeLessThan(FAST_MS);

      const more = await timed(call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: { extra: 1 } } }));
      expectRefused(more.response, 'body.attributes', /at most 500 attributes: this change would make 501/);
      expect(more.ms).toBeLessThan(FAST_MS);
      expect(Object.keys((await stored(userId)) ?? {})).toHaveLength(500);

      // Replacing and removing attributes stays possible at the limit.
      const swap = await call(t.app, 'PUT', `/v1/users/${userId}`, { payload: { attributes: { a0: null, a1: 'changed', extra: 1 } } });
      expect(swap.statusCode, swap.body.slice(0, 300)).toBe(200);
      const after = (await stored(userId)) ?? {};
      expect(Object.keys(after)).toHaveLength(500);
      expect(after).toMatchObject({ a1: 'changed', extra: 1 });
      expect(after).not.toHaveProperty('a0');
    },
    SLOW_TEST_MS,
  );
});

describe('event properties are bounded', () => {
  const t = sharedTestApp();

  it('refuses a single event with 501 properties, or properties over 32 KiB, naming `properties`', async () => {
    const userId = uniqueUserId('bounds');
    expectRefused(
      await call(t.app, 'POST', '/v1/events', { payload: { userId, name: 'wide', properties: entries(501) } }),
      'body.properties',
      /at most 500 properties/,
    );
    expectRefused(
      await call(t.app, 'POST', '/v1/events', { payload: { userId, name: 'heavy', properties: { text: 'x'.repeat(32 * 1024) } } }),
      'body.properties',
      /at most 32 KiB/,
    );
    expect(await recordsOf(t.deps, userId)).toEqual([]);
  });

  it('rejects such events in a batch and accepts the others', async () => {
    const userId = uniqueUserId('bounds');
    const response = await call(t.app, 'POST', '/v1/events', {
      payload: {
        events: [
          { userId, name: 'wide', properties: entries(50_000) },
          { userId, name: 'fine', properties: entries(500) },
        ],
      },
    });
    expect(response.statusCode, response.body.slice(0, 300)).toBe(202);
    expect(response.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 0, error: expect.stringMatching(/^properties: may have at most 500 properties/) }],
    });
    expect((await recordsOf(t.deps, userId)).map((record) => (record.type === 'event' ? record.name : record.type))).toEqual(['fine']);
  });

  it(
    'answers fast near the limits: 400 events of 500 properties each (1.8 MB)',
    async () => {
      const userId = uniqueUserId('bounds');
      const events = Array.from({ length: 400 }, (_, index) => ({ userId, name: `e${index}`, properties: entries(500, 0, 'p') }));
      expect(JSON.stringify({ events }).length).toBeGreaterThan(1_000_000);
      const { response, ms } = await timed(call(t.app, 'POST', '/v1/events', { payload: { events } }));
      expect(response.statusCode, response.body.slice(0, 300)).toBe(202);
      expect(response.json()).toMatchObject({ accepted: 400, rejected: [] });
      expect(ms).toBeLessThan(FAST_MS);
    },
    SLOW_TEST_MS,
  );
});
