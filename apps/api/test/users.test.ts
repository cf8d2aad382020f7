import { createJourneyStatesRepository } from '@journey/mongo';
import { createRedis } from '@journey/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { testApp } from './helpers.js';
import { bearer, call, deadPort, mintKey, recordsOf, restrictedRedis } from './ingest-helpers.js';

let counter = 0;
const newUser = (label = 'user') => `${label}-${process.pid}-${Date.now().toString(36)}-${counter++}`;
const userUrl = (userId: string, suffix = '') => `/v1/users/${encodeURIComponent(userId)}${suffix}`;

describe('users over HTTP', () => {
  let app: App;
  let deps: AppDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, deps, close } = await testApp());
  });
  afterAll(async () => close());

  const storedUser = (userId: string) =>
    deps.mongo.db.collection<{ _id: string; attributes: Record<string, unknown>; muted?: string[] }>('users').findOne({ _id: userId });

  describe('PUT /v1/users/:userId', () => {
    it('creates the user, then merges: named attributes change, null removes one, the rest stay', async () => {
      const userId = newUser();
      const created = await call(app, 'PUT', userUrl(userId), {
        payload: { attributes: { firstName: 'Ada', plan: 'free', country: 'US' } },
      });
      expect(created.statusCode, created.body).toBe(200);
      const first = created.json();
      expect(first).toEqual({
        userId,
        attributes: { firstName: 'Ada', plan: 'free', country: 'US' },
        createdAt: expect.any(String),
        updatedAt: first.createdAt,
      });

      const merged = await call(app, 'PUT', userUrl(userId), {
        payload: { attributes: { plan: 'pro', country: null, prefs: { tags: ['a', 1, true, null] } } },
      });
      expect(merged.statusCode, merged.body).toBe(200);
      const second = merged.json();
      expect(second.attributes).toEqual({ firstName: 'Ada', plan: 'pro', prefs: { tags: ['a', 1, true, null] } });
      expect(second.createdAt).toBe(first.createdAt);
      expect(Date.parse(second.updatedAt)).toBeGreaterThanOrEqual(Date.parse(first.updatedAt));
      // Written to MongoDB at once, not only queued.
      expect((await storedUser(userId))?.attributes).toEqual(second.attributes);
    });

    it("appends an attributes record per change, in order with the user's events", async () => {
      const userId = newUser();
      expect((await call(app, 'PUT', userUrl(userId), { payload: { attributes: { plan: 'free' } } })).statusCode).toBe(200);
      expect((await call(app, 'POST', '/v1/events', { payload: { userId, name: 'upgraded' } })).statusCode).toBe(202);
      expect((await call(app, 'PUT', userUrl(userId), { payload: { attributes: { plan: 'pro' } } })).statusCode).toBe(200);
      const records = await recordsOf(deps, userId);
      expect(records.map((record) => record.type)).toEqual(['attributes', 'event', 'attributes']);
      expect(records[0]).toEqual({ type: 'attributes', id: expect.stringMatching(/^attr_/), userId, time: expect.any(Number) });
      expect(records[0]!.id).not.toBe(records[2]!.id);
    });

    it('accepts an empty attributes object (registers the user), and ids of 128 characters of any kind', async () => {
      // '€' is 9 characters URL-encoded: the longest path parameter a valid id can make.
      const userId = `${newUser()} ü/é:%${'€'.repeat(128)}`.slice(0, 128);
      expect(userId).toHaveLength(128);
      const response = await call(app, 'PUT', userUrl(userId), { payload: { attributes: {} } });
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toMatchObject({ userId, attributes: {} });
      expect((await call(app, 'GET', userUrl(userId))).json()).toMatchObject({ userId });
    });

    const bad: Array<{ name: string; userId?: string; payload: unknown; paths: string[] }> = [
      { name: 'a dotted attribute name', payload: { attributes: { 'a.b': 1 } }, paths: ['body.attributes.a.b'] },
      { name: 'a $ attribute name', payload: { attributes: { $set: 1 } }, paths: ['body.attributes.$set'] },
      { name: 'a name starting with -', payload: { attributes: { '-x': 1 } }, paths: ['body.attributes.-x'] },
      { name: 'a name of 65 characters', payload: { attributes: { ['n'.repeat(65)]: 1 } }, paths: [`body.attributes.${'n'.repeat(65)}`] },
      { name: 'a value with a $ field', payload: { attributes: { prefs: { $where: 'x' } } }, paths: ['body.attributes.prefs.$where'] },
      { name: 'a value with a dotted field', payload: { attributes: { prefs: { 'a.b': 1 } } }, paths: ['body.attributes.prefs.a.b'] },
      {
        name: 'a value nested deeper than can be stored',
        payload: { attributes: { deep: JSON.parse(`${'['.repeat(80)}${']'.repeat(80)}`) } },
        paths: ['body.attributes.deep'],
      },
      { name: 'attributes missing', payload: {}, paths: ['body.attributes'] },
      { name: 'attributes not an object', payload: { attributes: ['plan'] }, paths: ['body.attributes'] },
      { name: 'an unknown field', payload: { attributes: {}, email: 'a@b.c' }, paths: ['body.email'] },
      { name: 'a user id with "|"', userId: 'a|b', payload: { attributes: {} }, paths: ['params.userId'] },
      { name: 'a user id of 129 characters', userId: 'u'.repeat(129), payload: { attributes: {} }, paths: ['params.userId'] },
      { name: 'a user id with a control character', userId: 'a\nb', payload: { attributes: {} }, paths: ['params.userId'] },
    ];
    it.each(bad)('answers 400 naming the field for $name, and stores nothing', async ({ userId = newUser(), payload, paths }) => {
      const response = await call(app, 'PUT', userUrl(userId), { payload });
      expect(response.statusCode, response.body).toBe(400);
      const details: Array<{ path: string; message: string }> = response.json().details;
      for (const path of paths) {
        const detail = details.find((d) => d.path === path || d.path.startsWith(`${path}.`));
        expect(detail, `${path} in ${response.body}`).toBeDefined();
        expect(detail!.message.length).toBeGreaterThan(0);
      }
      expect(await storedUser(userId)).toBeNull();
    });

    it('says why an attribute name is refused', async () => {
      const response = await call(app, 'PUT', userUrl(newUser()), { payload: { attributes: { 'first name': 'Ada' } } });
      expect(response.json().details).toEqual([
        { path: 'body.attributes.first name', message: expect.stringMatching(/^is not a valid attribute name: /) },
      ]);
    });
  });

  describe('GET /v1/users/:userId', () => {
    it('answers 404 for a user never seen', async () => {
      const userId = newUser();
      const response = await call(app, 'GET', userUrl(userId));
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: `User ${userId} not found` });
    });

    it('returns the attributes, the muted message types and every journey state', async () => {
      const userId = newUser();
      expect((await call(app, 'PUT', userUrl(userId), { payload: { attributes: { plan: 'pro' } } })).statusCode).toBe(200);
      const fresh = await call(app, 'GET', userUrl(userId));
      expect(fresh.statusCode, fresh.body).toBe(200);
      expect(fresh.json()).toMatchObject({ userId, attributes: { plan: 'pro' }, subscriptions: { muted: [] }, journeys: [] });

      const states = createJourneyStatesRepository(deps.mongo.db);
      const entered = new Date('2026-11-20T08:00:00.000Z');
      const ended = new Date('2026-11-21T08:00:00.000Z');
      const base = { userId, version: 1, token: '0', trigger: null, now: entered };
      expect(await states.enter({ ...base, journeyId: 'jrn_bbbbbbbbbbbbbbbbbbbb', entryId: 'entry-b', stepId: 'wait' })).toBe('entered');
      expect(
        await states.enter({ ...base, journeyId: 'jrn_aaaaaaaaaaaaaaaaaaaa', version: 3, entryId: 'entry-a', stepId: 'welcome' }),
      ).toBe('entered');
      expect(await states.exit('jrn_aaaaaaaaaaaaaaaaaaaa', userId, 'entry-a', ended)).toBe(true);
      const welcomed = {
        status: 'sent' as const,
        reason: null,
        attempts: 1,
        completedAt: entered.getTime(),
        token: '0',
        visit: 1,
        firstAttemptAt: entered.getTime(),
        nextAttemptAt: null,
        lastError: null,
        branch: null,
        request: null,
      };
      const commit = {
        key: '0',
        journeyId: 'jrn_bbbbbbbbbbbbbbbbbbbb',
        userId,
        entryId: 'entry-b',
        expectedToken: '0',
        token: '1',
        stepId: 'wait',
        status: 'active' as const,
      };
      expect(await states.commitEach([{ ...commit, message: { stepId: 'welcome', record: welcomed }, now: entered.getTime() }])).toEqual([
        true,
      ]);
      expect((await call(app, 'PUT', userUrl(userId, '/subscriptions'), { payload: { muted: ['promo', 'digest'] } })).statusCode).toBe(200);

      const response = await call(app, 'GET', userUrl(userId));
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({
        userId,
        attributes: { plan: 'pro' },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        subscriptions: { muted: ['digest', 'promo'] },
        journeys: [
          {
            journeyId: 'jrn_aaaaaaaaaaaaaaaaaaaa',
            version: 3,
            entryId: 'entry-a',
            status: 'exited',
            stepId: null,
            enteredAt: entered.toISOString(),
            lastEnteredAt: entered.toISOString(),
            entries: 1,
            endedAt: ended.toISOString(),
            messages: {},
          },
          {
            journeyId: 'jrn_bbbbbbbbbbbbbbbbbbbb',
            version: 1,
            entryId: 'entry-b',
            status: 'active',
            stepId: 'wait',
            enteredAt: entered.toISOString(),
            lastEnteredAt: entered.toISOString(),
            entries: 1,
            endedAt: null,
            messages: {
              welcome: {
                status: 'sent',
                reason: null,
                attempts: 1,
                visit: 1,
                completedAt: entered.toISOString(),
                nextAttemptAt: null,
                lastError: null,
              },
            },
          },
        ],
      });
    });
  });

  describe('PUT /v1/users/:userId/subscriptions', () => {
    it('mutes and unmutes at once and answers every muted type', async () => {
      const userId = newUser();
      const muted = await call(app, 'PUT', userUrl(userId, '/subscriptions'), { payload: { muted: ['promo', 'news', 'promo'] } });
      expect(muted.statusCode, muted.body).toBe(200);
      expect(muted.json()).toEqual({ userId, muted: ['news', 'promo'] });

      const changed = await call(app, 'PUT', userUrl(userId, '/subscriptions'), {
        payload: { muted: ['alerts'], unmuted: ['news', 'never-muted'] },
      });
      expect(changed.json()).toEqual({ userId, muted: ['alerts', 'promo'] });
      // Kept with the user, where the worker reads them with the user's attributes.
      expect((await storedUser(userId))?.muted).toEqual(['alerts', 'promo']);

      const emptied = await call(app, 'PUT', userUrl(userId, '/subscriptions'), { payload: { unmuted: ['alerts', 'promo'], muted: [] } });
      expect(emptied.json()).toEqual({ userId, muted: [] });
    });

    it.each([
      { name: 'neither list', payload: {}, paths: ['body'] },
      { name: 'two empty lists', payload: { muted: [], unmuted: [] }, paths: ['body'] },
      { name: 'a type in both lists', payload: { muted: ['promo', 'news'], unmuted: ['news'] }, paths: ['body.unmuted.0'] },
      { name: 'an empty type', payload: { muted: [''] }, paths: ['body.muted.0'] },
      { name: 'a type of 101 characters', payload: { unmuted: ['t'.repeat(101)] }, paths: ['body.unmuted.0'] },
      { name: 'a type that is not a string', payload: { muted: [1] }, paths: ['body.muted.0'] },
      { name: 'an unknown field', payload: { muted: ['promo'], channel: 'email' }, paths: ['body.channel'] },
    ])('answers 400 naming the field for $name, and changes nothing', async ({ payload, paths }) => {
      const userId = newUser();
      const response = await call(app, 'PUT', userUrl(userId, '/subscriptions'), { payload });
      expect(response.statusCode, response.body).toBe(400);
      expect(response.json().details).toEqual(
        expect.arrayContaining(paths.map((path) => expect.objectContaining({ path, message: expect.any(String) }))),
      );
      expect(await storedUser(userId)).toBeNull();
    });
  });

  describe('keys', () => {
    it('lets ingest and admin keys in, and keeps ops keys and callers without a key out', async () => {
      const userId = newUser();
      const ingest = bearer(await mintKey(app, 'ingest'));
      const ops = bearer(await mintKey(app, 'ops'));
      const requests = [
        { method: 'PUT' as const, url: userUrl(userId), payload: { attributes: { plan: 'pro' } } },
        { method: 'GET' as const, url: userUrl(userId) },
        { method: 'PUT' as const, url: userUrl(userId, '/subscriptions'), payload: { muted: ['promo'] } },
      ];
      for (const { method, url, payload } of requests) {
        expect(
          (await call(app, method, url, { payload, headers: { authorization: '' } })).statusCode,
          `${method} ${url} without a key`,
        ).toBe(401);
        expect((await call(app, method, url, { payload, headers: ops })).statusCode, `${method} ${url} with an ops key`).toBe(403);
      }
      expect(await storedUser(userId)).toBeNull();
      for (const { method, url, payload } of requests) {
        expect((await call(app, method, url, { payload, headers: ingest })).statusCode, `${method} ${url} with an ingest key`).toBe(200);
        expect((await call(app, method, url, { payload })).statusCode, `${method} ${url} with an admin key`).toBe(200);
      }
    });
  });

  describe('when Redis fails', () => {
    it('refuses attribute changes with 503 before writing anything while Redis is unreachable', async () => {
      const dead = await testApp({ redis: createRedis({ url: `redis://127.0.0.1:${await deadPort()}` }, 'command') });
      try {
        const userId = newUser();
        const put = await call(dead.app, 'PUT', userUrl(userId), { payload: { attributes: { plan: 'pro' } } });
        expect(put.statusCode, put.body).toBe(503);
        expect(put.json()).toEqual({ error: expect.stringContaining('nothing was changed') });
        expect(await dead.deps.mongo.db.collection('users').countDocuments({ _id: userId as never })).toBe(0);

        // Mutes and reads need MongoDB only: they go on while Redis is down.
        const subscriptions = await call(dead.app, 'PUT', userUrl(userId, '/subscriptions'), { payload: { muted: ['promo'] } });
        expect(subscriptions.statusCode, subscriptions.body).toBe(200);
        expect((await call(dead.app, 'GET', userUrl(userId))).json()).toMatchObject({ subscriptions: { muted: ['promo'] } });
      } finally {
        await dead.close();
      }
    });

    it('says the attributes were saved when only the append failed, so a retry completes it', async () => {
      const restricted = await restrictedRedis(deps.redis, ['~*', '&*', '+@all', '-@scripting']);
      const failing = await testApp({ redis: restricted.redis });
      try {
        const userId = newUser();
        const response = await call(failing.app, 'PUT', userUrl(userId), { payload: { attributes: { plan: 'pro' } } });
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json().error).toContain('The attributes were saved');
        expect(
          (await failing.deps.mongo.db.collection<{ _id: string; attributes: unknown }>('users').findOne({ _id: userId }))?.attributes,
        ).toEqual({ plan: 'pro' });
      } finally {
        await failing.close();
        await restricted.close();
      }
    });
  });
});
