import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { exampleJourney } from '@journey/core';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedTestApp, TEST_ADMIN_KEY, testApp, uniqueUserId } from './helpers.js';
import { bearer, call, mintKey, recordsOf } from './ingest-helpers.js';

/** The contract's error body: `{ error, details? }` and nothing else. */
function expectErrorBody(response: { body: string }, status: number, actual: number): Record<string, unknown> {
  expect(actual, response.body).toBe(status);
  const body = JSON.parse(response.body) as Record<string, unknown>;
  expect(typeof body.error).toBe('string');
  expect(Object.keys(body).every((key) => key === 'error' || key === 'details')).toBe(true);
  return body;
}

function expectRefusedAt(response: LightMyRequestResponse, path: string): void {
  const body = expectErrorBody(response, 400, response.statusCode);
  expect(body.details).toEqual(expect.arrayContaining([{ path, message: expect.stringMatching(/surrogate/) }]));
}

describe('ids with a lone surrogate are refused, not changed', () => {
  const t = sharedTestApp();
  const users = () => t.deps.mongo.db.collection('users');

  it('in the user id of a path: percent-encoded, it is not UTF-8, and the URL is refused in the contract body', async () => {
    // A URL carries UTF-8, so a lone surrogate can only arrive as its (invalid) 3-byte encoding; decoding it
    // leniently would make "a\uD800" and "a\uDC00" both "a\uFFFD": two ids, one user.
    for (const userId of ['a%ED%A0%80', 'b%ED%B0%80x']) {
      for (const { method, suffix, payload } of [
        { method: 'PUT', suffix: '', payload: { attributes: { plan: 'pro' } } },
        { method: 'GET', suffix: '' },
        { method: 'PUT', suffix: '/subscriptions', payload: { muted: ['promo'] } },
      ] as const) {
        const response = await call(t.app, method, `/v1/users/${userId}${suffix}`, { payload });
        const body = expectErrorBody(response, 400, response.statusCode);
        expect(body.error).toMatch(/not valid/);
      }
    }
    expect(await users().countDocuments({ _id: { $in: ['a\ufffd', 'b\ufffdx'] } as never })).toBe(0);
  });

  it('in a message type to mute', async () => {
    expectRefusedAt(
      await call(t.app, 'PUT', `/v1/users/${uniqueUserId('surrogate')}/subscriptions`, { payload: { muted: ['promo\ud800'] } }),
      'body.muted.0',
    );
  });

  it('in events: user id, event id and name', async () => {
    const userId = uniqueUserId('surrogate');
    expectRefusedAt(await call(t.app, 'POST', '/v1/events', { payload: { userId: `${userId}\ud800`, name: 'x' } }), 'body.userId');
    expectRefusedAt(await call(t.app, 'POST', '/v1/events', { payload: { userId, id: 'e\udfff', name: 'x' } }), 'body.id');
    expectRefusedAt(await call(t.app, 'POST', '/v1/events', { payload: { userId, name: 'x\ud800' } }), 'body.name');
    const batch = await call(t.app, 'POST', '/v1/events', {
      payload: {
        events: [
          { userId: `${userId}\udc00`, name: 'x' },
          { userId, name: 'fine' },
        ],
      },
    });
    expect(batch.json()).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [{ index: 0, error: expect.stringMatching(/^userId: .*surrogate/) }],
    });
    expect((await recordsOf(t.deps, userId)).map((record) => record.userId)).toEqual([userId]);
  });

  it('in api entries', async () => {
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: { ...exampleJourney, entry: { trigger: { type: 'api' } } } });
    const id = created.json().id;
    expect((await call(t.app, 'POST', `/v1/journeys/${id}/publish`)).statusCode).toBe(200);
    expectRefusedAt(await call(t.app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: ['ok', 'a\ud800'] } }), 'body.userIds.1');
  });
});

describe("Fastify's own refusals use the contract's error body", () => {
  const t = sharedTestApp();

  it('a bad percent-encoding (400) and a path parameter over the router limit (414)', async () => {
    const bad = await call(t.app, 'GET', '/v1/journeys/%E0%A4%A');
    expectErrorBody(bad, 400, bad.statusCode);
    const long = await call(t.app, 'GET', `/v1/users/${'u'.repeat(3000)}`);
    expectErrorBody(long, 414, long.statusCode);
  });

  describe('over a real socket', () => {
    let port: number;
    beforeAll(async () => {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP port');
      port = address.port;
    });

    it('headers too large (431) and a request Node cannot parse (400)', async () => {
      const large = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest({ port, path: '/health', headers: { 'x-big': 'x'.repeat(64 * 1024) } }, (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
        });
        request.on('error', reject);
        request.end();
      });
      expectErrorBody(large, 431, large.status);

      const garbage = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('NOT HTTP AT ALL\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      const [head = '', body = ''] = garbage.split('\r\n\r\n');
      expectErrorBody({ body }, 400, Number(head.split(' ')[1]));
    });
  });
});

describe('per-key rate limit', () => {
  let t: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    t = await testApp({ config: { RATE_LIMIT_PER_MINUTE: 3 } });
  });
  afterAll(async () => t.close());

  it('answers 429 with Retry-After once a key made its requests of the minute; other keys go on', async () => {
    const ingest = bearer(await mintKey(t.app, 'ingest'));
    const event = { userId: uniqueUserId('limited'), name: 'x' };
    for (let i = 0; i < 3; i += 1)
      expect((await call(t.app, 'POST', '/v1/events', { payload: event, headers: ingest })).statusCode).toBe(202);
    const limited = await call(t.app, 'POST', '/v1/events', { payload: event, headers: ingest });
    const body = expectErrorBody(limited, 429, limited.statusCode);
    expect(body.error).toMatch(/at most 3 requests per minute/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Counted per key: another key, and the public routes, are not held up.
    const other = bearer(await mintKey(t.app, 'ingest'));
    expect((await call(t.app, 'POST', '/v1/events', { payload: event, headers: other })).statusCode).toBe(202);
    for (let i = 0; i < 5; i += 1) expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });

  it('can be turned off with 0', async () => {
    const free = await testApp({ config: { RATE_LIMIT_PER_MINUTE: 0 } });
    try {
      for (let i = 0; i < 10; i += 1)
        expect((await call(free.app, 'GET', '/v1/journeys', { headers: bearer(TEST_ADMIN_KEY) })).statusCode).toBe(200);
    } finally {
      await free.close();
    }
  });
});
