import { exampleJourney } from '@journey/core';
import { createRedis } from '@journey/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { testApp } from './helpers.js';
import { bearer, call, deadPort, mintKey, partitionOf, recordsOf, restrictedRedis, waitingDrains } from './ingest-helpers.js';

const json = { 'content-type': 'application/json' };

/** A user id no other test uses, so its partition's records can be told apart. */
let counter = 0;
const newUser = (label = 'user') => `${label}-${process.pid}-${Date.now().toString(36)}-${counter++}`;

function expectAccepted(
  response: { statusCode: number; body: string; json: () => unknown },
  expected: { accepted: number; duplicates: number; rejected?: unknown[] },
) {
  expect(response.statusCode, response.body).toBe(202);
  expect(response.json()).toEqual({ rejected: [], ...expected });
}

describe('POST /v1/events', () => {
  let app: App;
  let deps: AppDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, deps, close } = await testApp());
  });
  afterAll(async () => close());

  describe('accepting', () => {
    it('makes a single event durable with an engine id, the time it was accepted and empty properties, and asks for its drain', async () => {
      const userId = newUser();
      const before = Date.now();
      const response = await call(app, 'POST', '/v1/events', { payload: { userId, name: 'signed_up' } });
      const after = Date.now();
      expectAccepted(response, { accepted: 1, duplicates: 0 });

      const records = await recordsOf(deps, userId);
      expect(records).toEqual([
        {
          type: 'event',
          id: expect.stringMatching(/^evt_[A-Za-z0-9_-]{16}$/),
          userId,
          name: 'signed_up',
          time: expect.any(Number),
          properties: {},
        },
      ]);
      const [record] = records;
      expect(record!.time).toBeGreaterThanOrEqual(before);
      expect(record!.time).toBeLessThanOrEqual(after);
      expect(await waitingDrains(deps)).toContain(partitionOf(deps, userId));
    });

    it("keeps the client's id, time (with its offset, as epoch ms) and properties", async () => {
      const userId = newUser();
      const event = {
        id: 'evt-1001',
        userId,
        name: 'purchased',
        time: '2026-11-22T09:30:00.250+05:30',
        properties: { item: 'T-shirt', price: 19.5, tags: ['a'] },
      };
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: event }), { accepted: 1, duplicates: 0 });
      expect(await recordsOf(deps, userId)).toEqual([
        {
          type: 'event',
          id: 'evt-1001',
          userId,
          name: 'purchased',
          time: Date.UTC(2026, 10, 22, 4, 0, 0, 250),
          properties: event.properties,
        },
      ]);
    });

    it("keeps one user's events in the order sent, across a batch and the requests after it", async () => {
      const userId = newUser();
      const other = newUser();
      const batch = ['a', 'b', 'c'].map((name) => ({ userId, name }));
      expectAccepted(
        await call(app, 'POST', '/v1/events', { payload: { events: [batch[0], { userId: other, name: 'x' }, batch[1], batch[2]] } }),
        {
          accepted: 4,
          duplicates: 0,
        },
      );
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: { userId, name: 'd' } }), { accepted: 1, duplicates: 0 });
      expect((await recordsOf(deps, userId)).map((record) => (record.type === 'event' ? record.name : record.type))).toEqual([
        'a',
        'b',
        'c',
        'd',
      ]);
      expect(await recordsOf(deps, other)).toHaveLength(1);
      const drains = await waitingDrains(deps);
      expect(drains).toEqual(expect.arrayContaining([partitionOf(deps, userId), partitionOf(deps, other)]));
    });

    it('accepts the good events of a batch and lists each bad one with its index, id and the field at fault', async () => {
      const userId = newUser();
      const response = await call(app, 'POST', '/v1/events', {
        payload: {
          events: [
            { id: 'ok-1', userId, name: 'first' },
            { id: 'bad-user', userId: 'a|b', name: 'x' },
            'not an event',
            { userId, name: '', colour: 'red' },
            { userId, name: 'late', time: 'yesterday' },
            { userId, name: 'props', properties: { $os: 'ios' } },
            { id: 'x'.repeat(200), userId, name: 'long id' },
            { userId, name: 'second' },
          ],
        },
      });
      expect(response.statusCode, response.body).toBe(202);
      const body = response.json();
      expect(body).toMatchObject({ accepted: 2, duplicates: 0 });
      expect(body.rejected.map((r: { index: number }) => r.index)).toEqual([1, 2, 3, 4, 5, 6]);
      const [badUser, notEvent, emptyName, badTime, badProps, longId] = body.rejected;
      expect(badUser).toEqual({ index: 1, id: 'bad-user', error: expect.stringMatching(/^userId: .*"\|"/) });
      expect(notEvent).toEqual({ index: 2, error: expect.stringContaining('must be an event object') });
      expect(emptyName.error).toContain('name: must not be empty');
      expect(emptyName.error).toContain('colour: unknown field');
      expect(badTime.error).toMatch(/^time: /);
      expect(badProps.error).toMatch(/^properties\.\$os: /);
      // Too long to be an id, so not echoed: the index says which event it was.
      expect(longId).toEqual({ index: 6, error: expect.stringMatching(/^id: must be at most 128 characters/) });

      expect((await recordsOf(deps, userId)).map((record) => record.type === 'event' && record.name)).toEqual(['first', 'second']);
    });

    it('answers 202 with everything rejected when no event of a batch is valid, and stores nothing', async () => {
      const userId = newUser();
      const response = await call(app, 'POST', '/v1/events', { payload: { events: [{ userId }, { name: 'x' }] } });
      expectAccepted(response, {
        accepted: 0,
        duplicates: 0,
        rejected: [
          { index: 0, error: 'name: is required' },
          { index: 1, error: 'userId: is required' },
        ],
      });
      expect(await recordsOf(deps, userId)).toEqual([]);
    });
  });

  describe('de-duplication', () => {
    it('counts a repeated id in one request as a duplicate and stores the event once', async () => {
      const userId = newUser();
      const event = { id: 'same', userId, name: 'clicked' };
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: { events: [event, { ...event, name: 'clicked again' }, event] } }), {
        accepted: 1,
        duplicates: 2,
      });
      expect((await recordsOf(deps, userId)).map((record) => record.id)).toEqual(['same']);
    });

    it('counts an id posted again in a later request (a client retry) as a duplicate', async () => {
      const userId = newUser();
      const events = [
        { id: 'r-1', userId, name: 'a' },
        { id: 'r-2', userId, name: 'b' },
      ];
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: { events } }), { accepted: 2, duplicates: 0 });
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: { events: [...events, { id: 'r-3', userId, name: 'c' }] } }), {
        accepted: 1,
        duplicates: 2,
      });
      expectAccepted(await call(app, 'POST', '/v1/events', { payload: events[0] }), { accepted: 0, duplicates: 1 });
      expect((await recordsOf(deps, userId)).map((record) => record.id)).toEqual(['r-1', 'r-2', 'r-3']);
    });

    it('de-duplicates per user (the same id for two users is two events) and never events without an id', async () => {
      const [alice, bob] = [newUser('alice'), newUser('bob')];
      const response = await call(app, 'POST', '/v1/events', {
        payload: {
          events: [
            { id: 'shared', userId: alice, name: 'x' },
            { id: 'shared', userId: bob, name: 'x' },
            { userId: alice, name: 'y' },
            { userId: alice, name: 'y' },
          ],
        },
      });
      expectAccepted(response, { accepted: 4, duplicates: 0 });
      const aliceRecords = await recordsOf(deps, alice);
      expect(aliceRecords.map((record) => record.id)).toEqual(['shared', expect.stringMatching(/^evt_/), expect.stringMatching(/^evt_/)]);
      expect(aliceRecords[1]!.id).not.toBe(aliceRecords[2]!.id);
      expect((await recordsOf(deps, bob)).map((record) => record.id)).toEqual(['shared']);
    });
  });

  describe('bad requests', () => {
    const single = { userId: 'user-1', name: 'x' };
    const cases: Array<{ name: string; payload?: unknown; headers?: Record<string, string>; status: number; paths?: string[] }> = [
      { name: '1001 events', payload: { events: Array.from({ length: 1001 }, () => single) }, status: 400, paths: ['body.events'] },
      { name: 'an empty batch', payload: { events: [] }, status: 400, paths: ['body.events'] },
      { name: '`events` not an array', payload: { events: { 0: single } }, status: 400, paths: ['body.events'] },
      { name: 'a batch with another field', payload: { events: [single], userId: 'u' }, status: 400, paths: ['body.userId'] },
      { name: 'a body of []', payload: '[]', headers: json, status: 400, paths: ['body'] },
      { name: 'a JSON array of events', payload: JSON.stringify([single]), headers: json, status: 400, paths: ['body'] },
      { name: 'a JSON string', payload: '"event"', headers: json, status: 400, paths: ['body'] },
      { name: 'null', payload: 'null', headers: json, status: 400, paths: ['body'] },
      { name: 'no body', status: 400, paths: ['body'] },
      { name: 'an empty JSON body', payload: '', headers: json, status: 400, paths: ['body'] },
      { name: 'malformed JSON', payload: '{"userId":', headers: json, status: 400 },
      { name: 'a single event without userId', payload: { name: 'x' }, status: 400, paths: ['body.userId'] },
      { name: 'a single event with a bad userId', payload: { userId: 'a|b', name: 'x' }, status: 400, paths: ['body.userId'] },
      { name: 'a single event with a bad time', payload: { ...single, time: '2026-11-22 09:30' }, status: 400, paths: ['body.time'] },
      { name: 'a single event with an unknown field', payload: { ...single, when: 'now' }, status: 400, paths: ['body.when'] },
      {
        name: 'a single event with non-object properties',
        payload: { ...single, properties: [1] },
        status: 400,
        paths: ['body.properties'],
      },
      {
        name: 'properties MongoDB cannot store',
        payload: { ...single, properties: { 'page.url': '/', nested: { $gt: 1 } } },
        status: 400,
        paths: ['body.properties.page.url', 'body.properties.nested.$gt'],
      },
      {
        name: 'properties nested too deeply',
        payload: JSON.stringify({ ...single, properties: { deep: 'DEEP' } }).replace(
          '"DEEP"',
          `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
        ),
        headers: json,
        status: 400,
      },
      { name: 'a text/plain body', payload: 'userId=u&name=x', headers: { 'content-type': 'text/plain' }, status: 415 },
    ];

    it.each(cases)('$name -> $status with the error body', async ({ payload, headers, status, paths }) => {
      const response = await call(app, 'POST', '/v1/events', { payload, headers });
      expect(response.statusCode, response.body).toBe(status);
      const body = response.json();
      expect(typeof body.error).toBe('string');
      expect(Object.keys(body).every((key) => key === 'error' || key === 'details')).toBe(true);
      if (paths) {
        expect(body.details, response.body).toEqual(
          expect.arrayContaining(paths.map((path) => expect.objectContaining({ path, message: expect.any(String) }))),
        );
      }
    });

    it('names the limit when a batch is too large, and stores none of it', async () => {
      const userId = newUser();
      const response = await call(app, 'POST', '/v1/events', {
        payload: { events: Array.from({ length: 1001 }, (_, i) => ({ userId, name: `e${i}` })) },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().details).toEqual([{ path: 'body.events', message: 'may hold at most 1000 events per request' }]);
      expect(await recordsOf(deps, userId)).toEqual([]);
    });

    it('accepts exactly 1000 events', async () => {
      const userId = newUser();
      const response = await call(app, 'POST', '/v1/events', {
        payload: { events: Array.from({ length: 1000 }, (_, i) => ({ userId, name: `e${i}` })) },
      });
      expectAccepted(response, { accepted: 1000, duplicates: 0 });
      const records = await recordsOf(deps, userId);
      expect(records).toHaveLength(1000);
      expect(records[999]).toMatchObject({ name: 'e999' });
    });
  });

  describe('keys', () => {
    it('answers 401 without a key and 403 to an ops key, and accepts ingest and admin keys', async () => {
      const userId = newUser();
      const payload = { userId, name: 'x' };
      const noKey = await call(app, 'POST', '/v1/events', { payload, headers: { authorization: '' } });
      expect(noKey.statusCode).toBe(401);
      const ops = await call(app, 'POST', '/v1/events', { payload, headers: bearer(await mintKey(app, 'ops')) });
      expect(ops.statusCode).toBe(403);
      expect(ops.json().error).toContain('ingest or admin');
      expect(await recordsOf(deps, userId)).toEqual([]);

      expectAccepted(await call(app, 'POST', '/v1/events', { payload, headers: bearer(await mintKey(app, 'ingest')) }), {
        accepted: 1,
        duplicates: 0,
      });
      expectAccepted(await call(app, 'POST', '/v1/events', { payload }), { accepted: 1, duplicates: 0 });
      expect(await recordsOf(deps, userId)).toHaveLength(2);
    });
  });

  describe('when Redis fails', () => {
    it('answers 503 (not 500) saying nothing was accepted while Redis is unreachable', async () => {
      const dead = await testApp({ redis: createRedis({ url: `redis://127.0.0.1:${await deadPort()}` }, 'command') });
      try {
        for (const payload of [
          { userId: 'u1', name: 'x' },
          {
            events: [
              { id: 'e1', userId: 'u1', name: 'x' },
              { userId: 'u2', name: 'y' },
            ],
          },
        ]) {
          const response = await call(dead.app, 'POST', '/v1/events', { payload });
          expect(response.statusCode, response.body).toBe(503);
          expect(response.json()).toEqual({ error: expect.stringContaining('nothing was accepted') });
          expect(response.headers['retry-after']).toBe('2');
        }
        // Bad input is still a 400: the body is checked before Redis is needed.
        expect((await call(dead.app, 'POST', '/v1/events', { payload: { name: 'x' } })).statusCode).toBe(400);
      } finally {
        await dead.close();
      }
    });

    it('answers 503 (not 500) when Redis refuses the append mid-request, without claiming nothing was stored', async () => {
      const restricted = await restrictedRedis(deps.redis, ['~*', '&*', '+@all', '-@scripting']);
      const failing = await testApp({ redis: restricted.redis });
      try {
        const response = await call(failing.app, 'POST', '/v1/events', { payload: { id: 'e1', userId: 'u1', name: 'x' } });
        expect(response.statusCode, response.body).toBe(503);
        expect(response.json().error).toContain('some may have been accepted');
        expect(response.json().error).not.toContain('nothing was accepted');
      } finally {
        await failing.close();
        await restricted.close();
      }
    });

    it('still answers 202 when the drain cannot be requested: the event is durable and the sweeper drains it', async () => {
      const prefix = `t_acl_${process.pid}_${counter++}`;
      // May use the event streams of this prefix, but no BullMQ key: appending works, requesting the drain fails.
      const restricted = await restrictedRedis(deps.redis, [`~{${prefix}:ev:*`, '&*', '+@all']);
      const limited = await testApp({ redis: restricted.redis, config: { REDIS_PREFIX: prefix } });
      try {
        const userId = newUser();
        expectAccepted(await call(limited.app, 'POST', '/v1/events', { payload: { id: 'kept', userId, name: 'x' } }), {
          accepted: 1,
          duplicates: 0,
        });
        // Read back through an unrestricted connection: the record is there, and no drain job is.
        const reader = { ...limited.deps, redis: deps.redis };
        expect((await recordsOf(reader, userId)).map((record) => record.id)).toEqual(['kept']);
        expect(await waitingDrains(reader)).toEqual([]);
      } finally {
        await limited.close();
        await restricted.close();
      }
    });
  });
});

describe('POST /v1/journeys/:id/entries', () => {
  let app: App;
  let deps: AppDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, deps, close } = await testApp());
  });
  afterAll(async () => close());

  async function journey(trigger: Record<string, unknown>, moves: string[]): Promise<string> {
    const created = await call(app, 'POST', '/v1/journeys', {
      payload: { ...exampleJourney, entry: { ...exampleJourney.entry, trigger } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    for (const move of moves) expect((await call(app, 'POST', `/v1/journeys/${id}/${move}`)).statusCode).toBe(200);
    return id;
  }

  it("appends one enter record per distinct user, in the users' partitions, and asks for their drains", async () => {
    const id = await journey({ type: 'api' }, ['publish']);
    const [ada, bo] = [newUser('ada'), newUser('bo')];
    const response = await call(app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: [ada, bo, ada] } });
    expect(response.statusCode, response.body).toBe(202);
    expect(response.json()).toEqual({ accepted: 2, duplicates: 0 });

    const adaRecords = await recordsOf(deps, ada);
    expect(adaRecords).toEqual([
      { type: 'enter', id: expect.stringMatching(/^ent_/), userId: ada, journeyId: id, time: expect.any(Number) },
    ]);
    const boRecords = await recordsOf(deps, bo);
    expect(boRecords).toEqual([
      { type: 'enter', id: expect.stringMatching(/^ent_/), userId: bo, journeyId: id, time: adaRecords[0]!.time },
    ]);
    expect(adaRecords[0]!.id).not.toBe(boRecords[0]!.id);
    expect(await waitingDrains(deps)).toEqual(expect.arrayContaining([partitionOf(deps, ada), partitionOf(deps, bo)]));
  });

  it('answers 404 for an unknown journey', async () => {
    const response = await call(app, 'POST', '/v1/journeys/jrn_00000000000000000000/entries', { payload: { userIds: ['u'] } });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Journey jrn_00000000000000000000 not found' });
  });

  it.each([
    { name: 'a draft', trigger: { type: 'api' }, moves: [], says: 'it is draft' },
    { name: 'a paused api journey', trigger: { type: 'api' }, moves: ['publish', 'pause'], says: 'it is paused' },
    { name: 'an archived api journey', trigger: { type: 'api' }, moves: ['publish', 'archive'], says: 'it is archived' },
    {
      name: 'an active event-triggered journey',
      trigger: { type: 'event', event: 'signed_up' },
      moves: ['publish'],
      says: '"event" trigger',
    },
    {
      name: 'an active scheduled journey',
      trigger: { type: 'schedule', at: '2030-01-01T09:00:00Z' },
      moves: ['publish'],
      says: '"schedule" trigger',
    },
  ])('answers 409 saying why for $name, and appends nothing', async ({ trigger, moves, says }) => {
    const id = await journey(trigger, moves);
    const userId = newUser();
    const response = await call(app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: [userId] } });
    expect(response.statusCode, response.body).toBe(409);
    expect(response.json()).toEqual({ error: expect.stringContaining(says) });
    expect(await recordsOf(deps, userId)).toEqual([]);
  });

  it('uses the active version: a pending draft with an api trigger does not open an event journey', async () => {
    const id = await journey({ type: 'event', event: 'signed_up' }, ['publish']);
    const draft = await call(app, 'PUT', `/v1/journeys/${id}`, {
      payload: { ...exampleJourney, entry: { ...exampleJourney.entry, trigger: { type: 'api' } } },
    });
    expect(draft.statusCode).toBe(200);
    expect((await call(app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: ['u'] } })).statusCode).toBe(409);
    expect((await call(app, 'POST', `/v1/journeys/${id}/publish`)).statusCode).toBe(200);
    expect((await call(app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: ['u'] } })).statusCode).toBe(202);
  });

  it.each([
    { name: 'no users', payload: { userIds: [] }, paths: ['body.userIds'] },
    { name: '1001 users', payload: { userIds: Array.from({ length: 1001 }, (_, i) => `u${i}`) }, paths: ['body.userIds'] },
    { name: 'a bad user id', payload: { userIds: ['ok', 'a|b'] }, paths: ['body.userIds.1'] },
    { name: 'entries and userIds missing', payload: {}, paths: ['body.entries'] },
    { name: 'both entries and userIds', payload: { userIds: ['u'], entries: [{ userId: 'u' }] }, paths: ['body.userIds'] },
    { name: '1001 entries', payload: { entries: Array.from({ length: 1001 }, (_, i) => ({ userId: `u${i}` })) }, paths: ['body.entries'] },
    { name: 'an entry without a user', payload: { entries: [{ userId: 'u' }, { properties: {} }] }, paths: ['body.entries.1.userId'] },
    {
      name: 'properties that are no object',
      payload: { entries: [{ userId: 'u', properties: [1] }] },
      paths: ['body.entries.0.properties'],
    },
    {
      name: 'an unstorable property name',
      payload: { entries: [{ userId: 'u', properties: { 'a.b': 1 } }] },
      paths: ['body.entries.0.properties.a.b'],
    },
    { name: 'an empty entry id', payload: { entries: [{ userId: 'u', id: '' }] }, paths: ['body.entries.0.id'] },
    { name: 'an unknown field', payload: { userIds: ['u'], force: true }, paths: ['body.force'] },
    { name: 'a malformed journey id', payload: { userIds: ['u'] }, paths: ['params.id'], url: '/v1/journeys/nope/entries' },
  ])('answers 400 naming the field for $name', async ({ payload, paths, url }) => {
    const id = await journey({ type: 'api' }, ['publish']);
    const response = await call(app, 'POST', url ?? `/v1/journeys/${id}/entries`, { payload });
    expect(response.statusCode, response.body).toBe(400);
    expect(response.json().details).toEqual(expect.arrayContaining(paths.map((path) => expect.objectContaining({ path }))));
  });

  it('is for admin keys only', async () => {
    const id = await journey({ type: 'api' }, ['publish']);
    const response = await call(app, 'POST', `/v1/journeys/${id}/entries`, {
      payload: { userIds: ['u'] },
      headers: bearer(await mintKey(app, 'ingest')),
    });
    expect(response.statusCode).toBe(403);
  });

  it('answers 503 when Redis is unreachable, after the journey checks', async () => {
    const dead = await testApp({ redis: createRedis({ url: `redis://127.0.0.1:${await deadPort()}` }, 'command') });
    try {
      const created = await call(dead.app, 'POST', '/v1/journeys', {
        payload: { ...exampleJourney, entry: { ...exampleJourney.entry, trigger: { type: 'api' } } },
      });
      const { id } = created.json();
      expect((await call(dead.app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: ['u'] } })).statusCode).toBe(409);
      // The publish is stored, but the workers cannot be told while Redis is away: the answer says so.
      const published = await call(dead.app, 'POST', `/v1/journeys/${id}/publish`);
      expect(published.statusCode).toBe(503);
      expect(published.headers['retry-after']).toBeDefined();
      expect(published.json()).toEqual({ error: expect.stringContaining(`Journey ${id} is active now`) });
      const response = await call(dead.app, 'POST', `/v1/journeys/${id}/entries`, { payload: { userIds: ['u'] } });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({ error: expect.stringContaining('no user was entered') });
    } finally {
      await dead.close();
    }
  });
});

describe('JSON bodies app-wide', () => {
  let app: App;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await testApp());
  });
  afterAll(async () => close());

  it('takes an empty body sent as application/json as no body on the lifecycle routes (as curl sends it)', async () => {
    const { id } = (await call(app, 'POST', '/v1/journeys', { payload: exampleJourney })).json();
    const published = await call(app, 'POST', `/v1/journeys/${id}/publish`, { payload: '', headers: json });
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ id, status: 'active' });
    expect((await call(app, 'POST', `/v1/journeys/${id}/pause`, { payload: '', headers: json })).json()).toMatchObject({
      status: 'paused',
    });
  });

  it.each([
    ['POST', '/v1/journeys'],
    ['PUT', '/v1/users/user-1'],
    ['PUT', '/v1/users/user-1/subscriptions'],
    ['POST', '/v1/api-keys'],
  ] as const)('answers 415 to a text/plain body on %s %s', async (method, url) => {
    const response = await call(app, method, url, { payload: '{"a":1}', headers: { 'content-type': 'text/plain' } });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({ error: 'Unsupported Content-Type: send application/json' });
  });

  it('still refuses prototype poisoning in JSON bodies', async () => {
    const response = await call(app, 'POST', '/v1/events', {
      payload: '{"userId":"u","name":"x","__proto__":{"admin":true}}',
      headers: json,
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Request body is not valid JSON' });
  });
});

describe('OpenAPI for ingestion', () => {
  let app: App;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await testApp());
  });
  afterAll(async () => close());

  it('documents the events, users and entries routes with their tags, bodies and statuses', async () => {
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    const paths = spec.paths as Record<
      string,
      Record<
        string,
        {
          tags: string[];
          parameters?: Array<{ name: string; schema: Record<string, unknown> }>;
          requestBody?: unknown;
          responses: Record<string, unknown>;
        }
      >
    >;
    const routes: Array<[string, string, string, string[]]> = [
      ['/v1/events', 'post', 'events', ['202', '400', '401', '403', '429', '503']],
      ['/v1/users/{userId}', 'put', 'users', ['200', '400', '429', '503']],
      ['/v1/users/{userId}', 'get', 'users', ['200', '404', '429', '503']],
      ['/v1/users/{userId}/subscriptions', 'put', 'users', ['200', '400', '429', '503']],
      ['/v1/journeys/{id}/entries', 'post', 'events', ['202', '404', '409', '429', '503']],
      ['/v1/users/{userId}', 'delete', 'users', ['204', '404', '429', '503']],
    ];
    for (const [path, method, tag, statuses] of routes) {
      const operation = paths[path]?.[method];
      expect(operation, `${method} ${path}`).toBeDefined();
      expect(operation!.tags).toEqual([tag]);
      expect(Object.keys(operation!.responses)).toEqual(expect.arrayContaining(statuses));
    }
    expect(JSON.stringify(paths['/v1/events']!.post!.requestBody)).toContain('#/components/schemas/EventsRequest');
    // Path parameters are expanded inline: a $ref there is not followed by the docs UI.
    const userId = paths['/v1/users/{userId}']!.get!.parameters!.find((parameter) => parameter.name === 'userId')!;
    expect(JSON.stringify(userId.schema)).not.toContain('$ref');
    expect(userId.schema).toMatchObject({ type: 'string' });
    expect(spec.components.schemas.EventsRequest.examples).toHaveLength(2);
    expect(spec.components.schemas.UserProfile.properties.journeys).toBeDefined();
    expect(Object.keys(spec.components.schemas.EntriesRequest.properties)).toEqual(['entries', 'userIds']);
    expect(spec.components.schemas.Entry.properties.properties).toBeDefined();
    expect(Object.keys(spec.components.schemas.EntriesAccepted.properties)).toEqual(['accepted', 'duplicates']);
  });
});
