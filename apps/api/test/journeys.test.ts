import { exampleJourney, JsonValueSchema, validateJourney } from '@journey/core';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { TEST_ADMIN_KEY, testApp } from './helpers.js';

const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

/** A deep copy of the contract's example, changed by `change`; loosely typed because some are made invalid on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function exampleWith(change: (journey: any) => void = () => undefined): Record<string, unknown> {
  const journey = structuredClone(exampleJourney) as Record<string, unknown>;
  change(journey);
  return journey;
}

/** What the API stores for a valid document: the core's validated form (defaults filled in). */
function canonical(document: unknown): unknown {
  const validation = validateJourney(document);
  if (!validation.ok) throw new Error(`test fixture is invalid: ${JSON.stringify(validation.issues)}`);
  return validation.journey;
}

function call(
  app: App,
  method: InjectOptions['method'],
  url: string,
  options: { payload?: unknown; headers?: Record<string, string> } = {},
) {
  return app.inject({
    method,
    url,
    headers: { ...admin, ...options.headers },
    ...(options.payload === undefined ? {} : { payload: options.payload as InjectOptions['payload'] }),
  });
}

async function createJourney(app: App, document: unknown = exampleJourney): Promise<string> {
  const response = await call(app, 'POST', '/v1/journeys', { payload: document });
  expect(response.statusCode, response.body).toBe(201);
  return response.json().id;
}

async function read(app: App, id: string) {
  const response = await call(app, 'GET', `/v1/journeys/${id}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json();
}

function expectOk(response: LightMyRequestResponse, status = 200) {
  expect(response.statusCode, response.body).toBe(status);
  return response.json();
}

describe('journeys over HTTP', () => {
  let app: App;
  let deps: AppDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, deps, close } = await testApp());
  });
  afterAll(async () => close());

  describe('what marketers write', () => {
    it('refuses broken Liquid templates, bad cron patterns and engine headers with a 400 at each path', async () => {
      const response = await call(app, 'POST', '/v1/journeys', {
        payload: exampleWith((journey) => {
          journey.entry.trigger = { type: 'schedule', cron: '0 25 * * *', timezone: 'user' };
          journey.steps.welcome.payload = { text: 'Hi {{ user.firstName | shout }}' };
          journey.steps.welcome.webhook = { url: 'https://x.test/{{ user.id', headers: { 'Journey-Signature': 'x' }, secret: 'short' };
          journey.steps.vipMsg = { type: 'user_update', set: { plan: '{% if %}' }, next: null };
        }),
      });
      expect(response.statusCode).toBe(400);
      expect(
        response
          .json()
          .details.map((detail: { path: string }) => detail.path)
          .sort(),
      ).toEqual([
        'entry.trigger.cron',
        'steps.vipMsg.set.plan',
        'steps.welcome.payload.text',
        'steps.welcome.webhook.headers.Journey-Signature',
        'steps.welcome.webhook.secret',
        'steps.welcome.webhook.url',
      ]);
    });

    it('accepts goals, user_update steps, webhook fields and a recurring schedule, and stores them as sent', async () => {
      const document = exampleWith((journey) => {
        journey.entry.trigger = { type: 'schedule', cron: '0 9 * * 1', timezone: 'America/New_York' };
        journey.goal = { event: 'purchased', window: 'P7D' };
        journey.steps.welcome.webhook = {
          url: 'https://x.test/u/{{ user.id }}',
          method: 'PATCH',
          headers: { 'X-A': '{{ event.a }}' },
          secret: 'whsec_0123456789abcdef',
        };
        journey.steps.vipMsg = {
          type: 'user_update',
          set: { vip: true, greeting: 'Hi {{ user.firstName }}' },
          unset: ['trial'],
          next: null,
        };
      });
      const id = await createJourney(app, document);
      expectOk(await call(app, 'POST', `/v1/journeys/${id}/publish`));
      const read = expectOk(await call(app, 'GET', `/v1/journeys/${id}`));
      expect(read.versions[0].definition).toEqual(canonical(document));
      expect(read.versions[0].definition.goal).toEqual({ event: 'purchased', window: 'P7D', exitOnGoal: false });
    });

    it('refuses to publish a draft whose one-time schedule has passed since it was saved', async () => {
      const soon = new Date(Date.now() + 1_000).toISOString();
      const id = await createJourney(
        app,
        exampleWith((journey) => (journey.entry.trigger = { type: 'schedule', at: soon })),
      );
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      const published = await call(app, 'POST', `/v1/journeys/${id}/publish`);
      expect(published.statusCode).toBe(400);
      expect(published.json().details).toEqual([{ path: 'entry.trigger.at', message: expect.stringMatching(/in the past/) }]);
    });

    it('deletes a draft or an archived journey with what it left, and refuses an active one', async () => {
      const draft = await createJourney(app);
      expect((await call(app, 'DELETE', `/v1/journeys/${draft}`)).statusCode).toBe(204);
      expect((await call(app, 'GET', `/v1/journeys/${draft}`)).statusCode).toBe(404);
      expect((await call(app, 'DELETE', `/v1/journeys/${draft}`)).statusCode).toBe(404);

      const active = await createJourney(app);
      expectOk(await call(app, 'POST', `/v1/journeys/${active}/publish`));
      const refused = await call(app, 'DELETE', `/v1/journeys/${active}`);
      expect(refused.statusCode).toBe(409);
      expect(refused.json().error).toMatch(/archive it first/);
      await deps.mongo.db.collection('journey_states').insertOne({ _id: `${active}:u1` as never, journeyId: active, userId: 'u1' });
      expectOk(await call(app, 'POST', `/v1/journeys/${active}/archive`));
      expect((await call(app, 'DELETE', `/v1/journeys/${active}`, { headers: { 'if-match': '"1"' } })).statusCode).toBe(409);
      expect((await call(app, 'DELETE', `/v1/journeys/${active}`)).statusCode).toBe(204);
      expect(await deps.mongo.db.collection('journey_versions').countDocuments({ journeyId: active })).toBe(0);
      expect(await deps.mongo.db.collection('journey_states').countDocuments({ journeyId: active })).toBe(0);
    });
  });

  describe('create and read', () => {
    it('creates the contract example as a draft (version 1) and reads it back with its history', async () => {
      const created = await call(app, 'POST', '/v1/journeys', { payload: exampleJourney });
      expect(created.statusCode).toBe(201);
      const body = created.json();
      expect(body).toEqual({ id: expect.stringMatching(/^jrn_[0-9a-f]{20}$/), version: 1, status: 'draft' });
      expect(created.headers.etag).toBe('"1"');

      const response = await call(app, 'GET', `/v1/journeys/${body.id}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers.etag).toBe('"1"');
      const journey = response.json();
      expect(journey).toMatchObject({
        id: body.id,
        name: 'Onboarding',
        status: 'draft',
        activeVersion: null,
        latestVersion: 0,
        draftVersion: 1,
        revision: 1,
        draft: { version: 1, definition: canonical(exampleJourney) },
      });
      expect(Date.parse(journey.createdAt)).not.toBeNaN();
      expect(journey.versions).toEqual([
        { version: 1, status: 'draft', publishedAt: null, updatedAt: journey.draft.updatedAt, definition: canonical(exampleJourney) },
      ]);
    });

    it('fills in defaults and trims the name, as the core validation does', async () => {
      const id = await createJourney(
        app,
        exampleWith((j) => {
          j.name = '  Welcome  ';
          delete j.settings;
          delete j.entry.reentry;
        }),
      );
      const { name, draft } = await read(app, id);
      expect(name).toBe('Welcome');
      expect(draft.definition.settings).toEqual({ timezone: 'UTC' });
      expect(draft.definition.entry.reentry).toEqual({ mode: 'never' });
    });

    it('reads one version, published or draft, and 404s for a number that is neither', async () => {
      const id = await createJourney(app);
      const draft = expectOk(await call(app, 'GET', `/v1/journeys/${id}/versions/1`));
      expect(draft).toMatchObject({ version: 1, status: 'draft', publishedAt: null, definition: { name: 'Onboarding' } });
      const missing = await call(app, 'GET', `/v1/journeys/${id}/versions/2`);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toEqual({ error: `Journey ${id} has no version 2` });
    });
  });

  describe('lifecycle', () => {
    it('moves draft -> active -> paused -> active -> archived, one revision per move', async () => {
      const id = await createJourney(app);

      const published = await call(app, 'POST', `/v1/journeys/${id}/publish`);
      expect(expectOk(published)).toMatchObject({
        id,
        status: 'active',
        activeVersion: 1,
        latestVersion: 1,
        draftVersion: null,
        revision: 2,
      });
      expect(published.headers.etag).toBe('"2"');
      expect((await read(app, id)).versions).toEqual([
        expect.objectContaining({ version: 1, status: 'active', publishedAt: expect.any(String), definition: canonical(exampleJourney) }),
      ]);

      const paused = expectOk(await call(app, 'POST', `/v1/journeys/${id}/pause`));
      expect(paused).toMatchObject({ status: 'paused', activeVersion: 1, revision: 3 });
      // While paused, the version is still the published one, not the one new entries use.
      expect((await read(app, id)).versions.map((v: { status: string }) => v.status)).toEqual(['published']);

      expect(expectOk(await call(app, 'POST', `/v1/journeys/${id}/resume`))).toMatchObject({ status: 'active', revision: 4 });
      expect(expectOk(await call(app, 'POST', `/v1/journeys/${id}/archive`))).toMatchObject({
        status: 'archived',
        activeVersion: 1,
        revision: 5,
      });

      const archived = await read(app, id);
      expect(archived).toMatchObject({ status: 'archived', revision: 5 });
      expect(archived.versions).toEqual([expect.objectContaining({ version: 1, status: 'published' })]);
    });

    it('replaces the draft of a draft journey in place (same version number)', async () => {
      const id = await createJourney(app);
      const renamed = exampleWith((j) => (j.name = 'Onboarding, take two'));
      const response = await call(app, 'PUT', `/v1/journeys/${id}`, { payload: renamed, headers: { 'if-match': '"1"' } });
      expect(expectOk(response)).toMatchObject({
        id,
        name: 'Onboarding, take two',
        status: 'draft',
        draftVersion: 1,
        latestVersion: 0,
        revision: 2,
      });
      expect(response.headers.etag).toBe('"2"');
      const journey = await read(app, id);
      expect(journey.draft.definition).toEqual(canonical(renamed));
      expect(journey.versions).toHaveLength(1);
    });

    it('opens version 2 on PUT to an active journey while version 1 stays active, then publishes it', async () => {
      const id = await createJourney(app);
      expectOk(await call(app, 'POST', `/v1/journeys/${id}/publish`));

      const v2 = exampleWith((j) => {
        j.name = 'Onboarding v2';
        j.steps.wait.duration = 'PT10M';
      });
      const edited = expectOk(await call(app, 'PUT', `/v1/journeys/${id}`, { payload: v2 }));
      expect(edited).toMatchObject({ status: 'active', activeVersion: 1, latestVersion: 1, draftVersion: 2, revision: 3 });
      // New entries still use version 1, unchanged.
      expect(expectOk(await call(app, 'GET', `/v1/journeys/${id}/versions/1`))).toMatchObject({
        version: 1,
        status: 'active',
        definition: canonical(exampleJourney),
      });

      // A second edit replaces the pending draft: still version 2.
      const v2b = exampleWith((j) => {
        j.name = 'Onboarding v2b';
        j.steps.wait.duration = 'PT15M';
      });
      expect(expectOk(await call(app, 'PUT', `/v1/journeys/${id}`, { payload: v2b }))).toMatchObject({
        activeVersion: 1,
        draftVersion: 2,
        revision: 4,
      });
      const pending = await read(app, id);
      expect(pending.versions.map((v: { version: number; status: string }) => [v.version, v.status])).toEqual([
        [1, 'active'],
        [2, 'draft'],
      ]);

      expect(expectOk(await call(app, 'POST', `/v1/journeys/${id}/publish`))).toMatchObject({
        name: 'Onboarding v2b',
        status: 'active',
        activeVersion: 2,
        latestVersion: 2,
        draftVersion: null,
        revision: 5,
      });
      const history = (await read(app, id)).versions;
      expect(history).toEqual([
        expect.objectContaining({
          version: 1,
          status: 'superseded',
          publishedAt: expect.any(String),
          definition: canonical(exampleJourney),
        }),
        expect.objectContaining({ version: 2, status: 'active', publishedAt: expect.any(String), definition: canonical(v2b) }),
      ]);
      expect(Date.parse(history[1].publishedAt)).toBeGreaterThanOrEqual(Date.parse(history[0].publishedAt));
    });

    it('publishing a pending draft of a paused journey makes the new version active', async () => {
      const id = await createJourney(app);
      expectOk(await call(app, 'POST', `/v1/journeys/${id}/publish`));
      expectOk(await call(app, 'POST', `/v1/journeys/${id}/pause`));
      expect(expectOk(await call(app, 'PUT', `/v1/journeys/${id}`, { payload: exampleJourney }))).toMatchObject({
        status: 'paused',
        draftVersion: 2,
      });
      expect(expectOk(await call(app, 'POST', `/v1/journeys/${id}/publish`))).toMatchObject({ status: 'active', activeVersion: 2 });
    });

    it.each([
      { move: 'publish', setup: ['publish', 'archive'], status: 'archived' },
      { move: 'resume', setup: ['publish'], status: 'active' },
      { move: 'pause', setup: [], status: 'draft' },
      { move: 'pause', setup: ['publish', 'pause'], status: 'paused' },
      { move: 'resume', setup: [], status: 'draft' },
      { move: 'archive', setup: ['archive'], status: 'archived' },
      { move: 'publish', setup: ['publish'], status: 'active' }, // nothing to publish: no draft
    ])('refuses $move on a $status journey with 409 naming the status, and changes nothing', async ({ move, setup, status }) => {
      const id = await createJourney(app);
      for (const step of setup) expectOk(await call(app, 'POST', `/v1/journeys/${id}/${step}`));
      const before = await read(app, id);
      expect(before.status).toBe(status);

      const response = await call(app, 'POST', `/v1/journeys/${id}/${move}`);
      expect(response.statusCode).toBe(409);
      expect(response.json()).toEqual({ error: expect.stringContaining(`it is ${status}`) });
      expect(await read(app, id)).toEqual(before);
    });

    it('refuses to edit an archived journey with 409', async () => {
      const id = await createJourney(app);
      expectOk(await call(app, 'POST', `/v1/journeys/${id}/archive`));
      const response = await call(app, 'PUT', `/v1/journeys/${id}`, { payload: exampleJourney });
      expect(response.statusCode).toBe(409);
      expect(response.json().error).toContain('archived');
    });

    it('validates the draft again on publish: a draft saved under older rules gets 400 with every issue', async () => {
      const id = await createJourney(app);
      // As if saved before a rule tightened: the API itself never stores an invalid draft.
      await deps.mongo.db
        .collection<{ _id: string }>('journeys')
        .updateOne(
          { _id: id },
          { $set: { 'draft.definition.steps.wait.duration': 'soon', 'draft.definition.steps.ab.variants.0.weight': 50 } },
        );
      const response = await call(app, 'POST', `/v1/journeys/${id}/publish`);
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error).toContain('invalid draft');
      const paths = body.details.map((d: { path: string }) => d.path);
      expect(paths).toContain('steps.wait.duration');
      expect(paths.some((p: string) => p.startsWith('steps.ab'))).toBe(true);
      // The stored draft is still readable (to be fixed), and nothing was published.
      expect(await read(app, id)).toMatchObject({
        status: 'draft',
        activeVersion: null,
        draft: { definition: { steps: { wait: { duration: 'soon' } } } },
      });
    });
  });

  describe('optimistic concurrency', () => {
    it('applies exactly one of two PUTs with the same If-Match; the other gets 409', async () => {
      const id = await createJourney(app);
      const bodies = ['first', 'second'].map((name) => exampleWith((j) => (j.name = name)));
      const responses = await Promise.all(
        bodies.map((payload) => call(app, 'PUT', `/v1/journeys/${id}`, { payload, headers: { 'if-match': '"1"' } })),
      );
      expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const winner = responses.find((r) => r.statusCode === 200)!;
      const loser = responses.find((r) => r.statusCode === 409)!;
      expect(loser.json()).toEqual({ error: expect.stringContaining(id) });
      expect(winner.json().revision).toBe(2);
      const journey = await read(app, id);
      expect(journey.revision).toBe(2);
      expect(journey.name).toBe(winner.json().name);
    });

    it('answers 409 to a stale If-Match, however old', async () => {
      const id = await createJourney(app);
      expectOk(await call(app, 'PUT', `/v1/journeys/${id}`, { payload: exampleJourney, headers: { 'if-match': '1' } }));
      const stale = await call(app, 'PUT', `/v1/journeys/${id}`, { payload: exampleJourney, headers: { 'if-match': 'W/"1"' } });
      expect(stale.statusCode).toBe(409);
      expect(stale.json().error).toContain('revision 2, not 1');
      const staleMove = await call(app, 'POST', `/v1/journeys/${id}/publish`, { headers: { 'if-match': '"1"' } });
      expect(staleMove.statusCode).toBe(409);
      expect((await read(app, id)).revision).toBe(2);
    });

    it('never overwrites silently when PUTs race without If-Match: one revision per successful write', async () => {
      const id = await createJourney(app);
      const { revision: base } = await read(app, id);
      const names = ['racer-a', 'racer-b', 'racer-c', 'racer-d'];
      const responses = await Promise.all(
        names.map((name) => call(app, 'PUT', `/v1/journeys/${id}`, { payload: exampleWith((j) => (j.name = name)) })),
      );
      const statuses = responses.map((r) => r.statusCode);
      expect(statuses.every((status) => status === 200 || status === 409)).toBe(true);
      const winners = responses.filter((r) => r.statusCode === 200).map((r) => r.json());
      expect(winners.length).toBeGreaterThanOrEqual(1);
      // Every success got its own revision, and nothing else moved the counter.
      expect(new Set(winners.map((w) => w.revision)).size).toBe(winners.length);
      const journey = await read(app, id);
      expect(journey.revision).toBe(base + winners.length);
      expect(Math.max(...winners.map((w) => w.revision))).toBe(journey.revision);
      // The stored draft is the one of the last successful write.
      const last = winners.find((w) => w.revision === journey.revision);
      expect(journey.name).toBe(last.name);
      expect(journey.draft.definition.name).toBe(last.name);
    });

    it('publishes once when two publishes race', async () => {
      const id = await createJourney(app);
      const responses = await Promise.all([
        call(app, 'POST', `/v1/journeys/${id}/publish`),
        call(app, 'POST', `/v1/journeys/${id}/publish`),
      ]);
      expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 409]);
      const journey = await read(app, id);
      expect(journey).toMatchObject({ status: 'active', activeVersion: 1, revision: 2 });
      expect(journey.versions).toHaveLength(1);
    });
  });

  describe('listing', () => {
    let listApp: App;
    let closeList: () => Promise<void>;
    const ids: string[] = [];
    beforeAll(async () => {
      // Its own database, so other tests' journeys do not show up.
      ({ app: listApp, close: closeList } = await testApp());
      for (const name of ['L1', 'L2', 'L3', 'L4', 'L5'])
        ids.push(
          await createJourney(
            listApp,
            exampleWith((j) => (j.name = name)),
          ),
        );
      for (const id of ids.slice(0, 2)) expectOk(await call(listApp, 'POST', `/v1/journeys/${id}/publish`));
    });
    afterAll(async () => closeList());

    it('pages through every journey, newest first, with the cursor', async () => {
      const seen: Array<{ id: string; createdAt: string; draftVersion: number | null }> = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const url: string = `/v1/journeys?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
        const page = expectOk(await call(listApp, 'GET', url));
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items);
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor && pages < 10);
      expect(pages).toBe(3);
      expect(seen.map((j) => j.id).sort()).toEqual([...ids].sort());
      // Newest first; ties (same millisecond) by id, descending.
      for (let i = 1; i < seen.length; i += 1) {
        const [prev, next] = [seen[i - 1]!, seen[i]!];
        const order = Date.parse(prev.createdAt) - Date.parse(next.createdAt) || (prev.id > next.id ? 1 : -1);
        expect(order).toBeGreaterThan(0);
      }
      // Summaries carry no definitions.
      expect(Object.keys(seen[0]!).sort()).toEqual(
        ['activeVersion', 'createdAt', 'draftVersion', 'id', 'latestVersion', 'name', 'revision', 'status', 'updatedAt'].sort(),
      );
    });

    it('filters by status', async () => {
      const active = expectOk(await call(listApp, 'GET', '/v1/journeys?status=active'));
      expect(active.items.map((j: { id: string }) => j.id).sort()).toEqual(ids.slice(0, 2).sort());
      expect(active.nextCursor).toBeNull();
      const drafts = expectOk(await call(listApp, 'GET', '/v1/journeys?status=draft&limit=100'));
      expect(drafts.items.map((j: { id: string }) => j.id).sort()).toEqual(ids.slice(2).sort());
      expect(expectOk(await call(listApp, 'GET', '/v1/journeys?status=archived')).items).toEqual([]);
    });
  });

  describe('bad requests', () => {
    let known: string;
    beforeAll(async () => {
      known = await createJourney(app);
    });

    const deepFilter = `${'{"not":'.repeat(5_000)}{"attr":"a","op":"eq","value":1}${'}'.repeat(5_000)}`;
    const cases: Array<{
      name: string;
      method: InjectOptions['method'];
      url: string | (() => string);
      payload?: unknown;
      headers?: Record<string, string>;
      status: number;
      paths?: string[];
    }> = [
      {
        name: 'malformed JSON',
        method: 'POST',
        url: '/v1/journeys',
        payload: '{"name": "x",',
        headers: { 'content-type': 'application/json' },
        status: 400,
      },
      {
        name: 'empty JSON body',
        method: 'POST',
        url: '/v1/journeys',
        payload: '',
        headers: { 'content-type': 'application/json' },
        status: 400,
      },
      {
        name: 'a JSON array',
        method: 'POST',
        url: '/v1/journeys',
        payload: '[1,2]',
        headers: { 'content-type': 'application/json' },
        status: 400,
        paths: [''],
      },
      {
        name: 'a JSON string',
        method: 'POST',
        url: '/v1/journeys',
        payload: '"journey"',
        headers: { 'content-type': 'application/json' },
        status: 400,
        paths: [''],
      },
      { name: 'no body at all', method: 'POST', url: '/v1/journeys', status: 400, paths: [''] },
      {
        name: 'name of the wrong type',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.name = 42)),
        status: 400,
        paths: ['name'],
      },
      {
        name: 'missing name',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => delete j.name),
        status: 400,
        paths: ['name'],
      },
      {
        name: 'unknown top-level field',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.colour = 'red')),
        status: 400,
        paths: ['colour'],
      },
      {
        name: 'unknown step field',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.steps.wait.foo = 1)),
        status: 400,
        paths: ['steps.wait.foo'],
      },
      {
        name: 'unknown step type',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.steps.wait.type = 'sleep')),
        status: 400,
        paths: ['steps.wait.type'],
      },
      {
        name: 'dangling next',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.steps.wait.next = 'nowhere')),
        status: 400,
        paths: ['steps.wait.next'],
      },
      {
        name: 'bad duration',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.steps.wait.duration = '5 minutes')),
        status: 400,
        paths: ['steps.wait.duration'],
      },
      {
        name: 'several problems at once',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => {
          j.steps.wait.duration = 'soon';
          j.steps.ab.variants[0].weight = 50;
          delete j.start;
        }),
        status: 400,
        paths: ['steps.wait.duration', 'start'],
      },
      {
        name: 'payload field names MongoDB cannot store',
        method: 'POST',
        url: '/v1/journeys',
        payload: exampleWith((j) => (j.steps.welcome.payload = { 'a.b': 1, $set: 2 })),
        status: 400,
        paths: ['steps.welcome.payload.a.b', 'steps.welcome.payload.$set'],
      },
      {
        name: 'nesting deeper than can be stored',
        method: 'POST',
        url: '/v1/journeys',
        payload: JSON.stringify(exampleWith((j) => (j.exit.when = 'DEEP'))).replace('"DEEP"', deepFilter),
        headers: { 'content-type': 'application/json' },
        status: 400,
      },
      {
        name: 'invalid PUT body',
        method: 'PUT',
        url: () => `/v1/journeys/${known}`,
        payload: exampleWith((j) => (j.start = 'ghost')),
        status: 400,
        paths: ['start'],
      },
      {
        name: 'text/plain body',
        method: 'POST',
        url: '/v1/journeys',
        payload: 'name=x',
        headers: { 'content-type': 'text/plain' },
        status: 415,
      },
      {
        name: 'XML body',
        method: 'PUT',
        url: () => `/v1/journeys/${known}`,
        payload: '<journey/>',
        headers: { 'content-type': 'application/xml' },
        status: 415,
      },
      { name: 'malformed journey id', method: 'GET', url: '/v1/journeys/nope', status: 400, paths: ['params.id'] },
      { name: 'malformed id on a move', method: 'POST', url: '/v1/journeys/jrn_XYZ/publish', status: 400, paths: ['params.id'] },
      {
        name: 'version that is not a number',
        method: 'GET',
        url: () => `/v1/journeys/${known}/versions/latest`,
        status: 400,
        paths: ['params.version'],
      },
      { name: 'version 0', method: 'GET', url: () => `/v1/journeys/${known}/versions/0`, status: 400, paths: ['params.version'] },
      {
        name: 'malformed If-Match',
        method: 'PUT',
        url: () => `/v1/journeys/${known}`,
        payload: exampleJourney,
        headers: { 'if-match': 'yesterday' },
        status: 400,
        paths: ['headers.if-match'],
      },
      { name: 'limit 0', method: 'GET', url: '/v1/journeys?limit=0', status: 400, paths: ['querystring.limit'] },
      { name: 'limit over 100', method: 'GET', url: '/v1/journeys?limit=1000', status: 400, paths: ['querystring.limit'] },
      { name: 'limit not a number', method: 'GET', url: '/v1/journeys?limit=ten', status: 400, paths: ['querystring.limit'] },
      { name: 'made-up cursor', method: 'GET', url: '/v1/journeys?cursor=bm90LWEtY3Vyc29y', status: 400, paths: ['querystring.cursor'] },
      { name: 'unknown status filter', method: 'GET', url: '/v1/journeys?status=running', status: 400, paths: ['querystring.status'] },
      { name: 'unknown query parameter', method: 'GET', url: '/v1/journeys?page=2', status: 400, paths: ['querystring.page'] },
      { name: 'unknown journey (read)', method: 'GET', url: '/v1/journeys/jrn_00000000000000000000', status: 404 },
      { name: 'unknown journey (versions)', method: 'GET', url: '/v1/journeys/jrn_00000000000000000000/versions/1', status: 404 },
      { name: 'unknown journey (PUT)', method: 'PUT', url: '/v1/journeys/jrn_00000000000000000000', payload: exampleJourney, status: 404 },
      { name: 'unknown journey (publish)', method: 'POST', url: '/v1/journeys/jrn_00000000000000000000/publish', status: 404 },
      { name: 'unknown journey (archive)', method: 'POST', url: '/v1/journeys/jrn_00000000000000000000/archive', status: 404 },
      { name: 'no API key', method: 'GET', url: '/v1/journeys', headers: { authorization: '' }, status: 401 },
    ];

    it.each(cases)('$name -> $status with the error body', async ({ method, url, payload, headers, status, paths }) => {
      const response = await call(app, method, typeof url === 'function' ? url() : url, { payload, headers });
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

    it('has at least 15 cases, all answered without a 5xx', () => {
      expect(cases.length).toBeGreaterThanOrEqual(15);
      expect(cases.every((c) => c.status >= 400 && c.status < 500)).toBe(true);
    });

    it('answers 403 to a key without the admin scope', async () => {
      const minted = expectOk(await call(app, 'POST', '/v1/api-keys', { payload: { scope: 'ingest', name: 'journeys test' } }), 201);
      const response = await call(app, 'GET', '/v1/journeys', { headers: { authorization: `Bearer ${minted.key}` } });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toEqual({ error: expect.stringContaining('admin') });
    });

    it('answers 413 to a body over the configured limit', async () => {
      const small = await testApp({ config: { BODY_LIMIT_BYTES: 512 } });
      try {
        const tooLarge = await call(small.app, 'POST', '/v1/journeys', { payload: exampleJourney });
        expect(JSON.stringify(exampleJourney).length).toBeGreaterThan(512);
        expect(tooLarge.statusCode).toBe(413);
        expect(tooLarge.json()).toEqual({ error: 'Request body is too large' });
        // A small enough body on the same app is fine (the limit, not the route, refused it).
        const tiny = await call(small.app, 'POST', '/v1/journeys', { payload: { name: 'x' } });
        expect(tiny.statusCode).toBe(400);
      } finally {
        await small.close();
      }
    });

    it('answers 400, not 500, when a validator runs out of stack on a deeply nested body', async () => {
      const fresh = await testApp();
      try {
        // Any route whose body schema recurses (here: any JSON value) is exposed; the journey routes check depth first.
        fresh.app.post('/test/any-json', { schema: { body: JsonValueSchema } }, async () => ({ ok: true }));
        const nested = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
        const response = await call(fresh.app, 'POST', '/test/any-json', {
          payload: nested,
          headers: { 'content-type': 'application/json' },
        });
        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({ error: 'Request body is nested too deeply' });
      } finally {
        await fresh.close();
      }
    });
  });

  describe('OpenAPI', () => {
    it('documents the journey routes and a Journey component', async () => {
      const response = await app.inject({ method: 'GET', url: '/docs/json' });
      expect(response.statusCode).toBe(200);
      const spec = response.json();
      const paths = spec.paths as Record<
        string,
        Record<string, { tags?: string[]; requestBody?: unknown; responses: Record<string, unknown> }>
      >;
      const routes: Array<[string, string]> = [
        ['/v1/journeys', 'post'],
        ['/v1/journeys', 'get'],
        ['/v1/journeys/{id}', 'get'],
        ['/v1/journeys/{id}', 'put'],
        ['/v1/journeys/{id}/versions/{version}', 'get'],
        ['/v1/journeys/{id}/publish', 'post'],
        ['/v1/journeys/{id}/pause', 'post'],
        ['/v1/journeys/{id}/resume', 'post'],
        ['/v1/journeys/{id}/archive', 'post'],
        ['/v1/journeys/{id}', 'delete'],
      ];
      for (const [path, method] of routes) {
        expect(paths[path]?.[method], `${method} ${path}`).toBeDefined();
        expect(paths[path]![method]!.tags).toEqual(['journeys']);
      }
      expect(JSON.stringify(paths['/v1/journeys']!.post!.requestBody)).toContain('#/components/schemas/JourneyDefinition');
      expect(JSON.stringify(paths['/v1/journeys/{id}']!.get!.responses['200'])).toContain('#/components/schemas/Journey"');
      expect(Object.keys(paths['/v1/journeys/{id}']!.put!.responses)).toEqual(
        expect.arrayContaining(['200', '400', '404', '409', '429', '503']),
      );
      expect(Object.keys(paths['/v1/journeys/{id}/stats']!.get!.responses)).toEqual(expect.arrayContaining(['200', '404', '429', '503']));

      const journey = spec.components.schemas.Journey;
      expect(journey).toBeDefined();
      expect(Object.keys(journey.properties)).toEqual(
        expect.arrayContaining(['id', 'status', 'activeVersion', 'revision', 'draft', 'versions']),
      );
      expect(journey.examples?.[0]?.versions?.[0]?.definition?.name).toBe('Onboarding');
    });
  });
});
