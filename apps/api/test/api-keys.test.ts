import { eventually } from '@journey/embedded/testing';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { TEST_ADMIN_KEY, testApp } from './helpers.js';

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

async function mint(app: App, scope: string, name = `${scope} key`): Promise<{ id: string; key: string; scope: string; name: string }> {
  const response = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(TEST_ADMIN_KEY), payload: { scope, name } });
  expect(response.statusCode).toBe(201);
  return response.json();
}

describe('API keys over HTTP', () => {
  let app: App;
  let deps: AppDeps;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, deps, close } = await testApp());
  });
  afterAll(async () => close());
  /** The raw MongoDB document, as an attacker with a database dump would see it. */
  const stored = (id: string) => deps.mongo.db.collection<{ _id: string; revokedAt?: Date | null }>('api_keys').findOne({ _id: id });

  it('lists keys with their scope, name, creation and last use, never the key or its hash', async () => {
    const used = await mint(app, 'ingest', 'web app');
    const idle = await mint(app, 'ops', 'grafana');
    expect((await app.inject({ method: 'GET', url: '/v1/users/nobody', headers: bearer(used.key) })).statusCode).toBe(404);
    const list = async () => {
      const response = await app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(TEST_ADMIN_KEY) });
      expect(response.statusCode).toBe(200);
      expect(response.body).not.toContain(used.key);
      expect(response.body).not.toContain(sha256(used.key));
      return response.json().items as Array<Record<string, unknown>>;
    };
    await eventually(async () => (await list()).find((key) => key['id'] === used.id)?.['lastUsedAt'] !== null, { what: 'the use noted' });
    const items = await list();
    expect(items.find((key) => key['id'] === used.id)).toEqual({
      id: used.id,
      scope: 'ingest',
      name: 'web app',
      createdAt: expect.any(String),
      lastUsedAt: expect.any(String),
      revokedAt: null,
    });
    expect(items.find((key) => key['id'] === idle.id)).toMatchObject({ lastUsedAt: null, revokedAt: null });
    expect((await app.inject({ method: 'GET', url: '/v1/api-keys', headers: bearer(idle.key) })).statusCode).toBe(403);
  });

  describe('authentication', () => {
    it('answers 401 with the error body and a Bearer challenge when no key is sent', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/api-keys', payload: { scope: 'ingest', name: 'x' } });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: expect.stringContaining('Missing API key') });
      expect(response.headers['www-authenticate']).toBe('Bearer');
    });

    it('answers 401 to an unknown key', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: bearer('je_admin_not-a-real-key'),
        payload: { scope: 'ingest', name: 'x' },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: 'Invalid or revoked API key' });
    });

    it.each([
      ['another scheme', `Basic ${TEST_ADMIN_KEY}`],
      ['no scheme', TEST_ADMIN_KEY],
      ['a scheme without a key', 'Bearer'],
      ['two tokens', `Bearer ${TEST_ADMIN_KEY} extra`],
    ])('answers 401 to a malformed Authorization header (%s), even carrying the admin key', async (_case, header) => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: { authorization: header },
        payload: { scope: 'ingest', name: 'x' },
      });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: expect.stringContaining('Malformed Authorization header') });
    });

    it('accepts ADMIN_API_KEY from the environment as an admin key, with the scheme in any case', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: { authorization: `bearer ${TEST_ADMIN_KEY}` },
        payload: { scope: 'ops', name: 'dashboards' },
      });
      expect(response.statusCode).toBe(201);
      expect(response.json()).toMatchObject({ scope: 'ops', name: 'dashboards' });
    });

    it('checks the key before the body: an unauthenticated bad body is a 401, not a 400', async () => {
      const response = await app.inject({ method: 'POST', url: '/v1/api-keys', payload: { nonsense: true } });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('POST /v1/api-keys', () => {
    it('returns the key once and stores only its SHA-256 hash', async () => {
      const created = await mint(app, 'ingest', 'web app events');
      expect(Object.keys(created).sort()).toEqual(['id', 'key', 'name', 'scope']);
      expect(created).toMatchObject({
        id: expect.stringMatching(/^key_/),
        key: expect.stringMatching(/^je_ingest_[A-Za-z0-9_-]{43}$/),
        scope: 'ingest',
        name: 'web app events',
      });

      const raw = await stored(created.id);
      expect(raw).not.toBeNull();
      expect(raw).toMatchObject({ keyHash: sha256(created.key), scope: 'ingest', name: 'web app events', revokedAt: null });
      expect(JSON.stringify(raw)).not.toContain(created.key);
      expect(JSON.stringify(raw)).not.toContain(created.key.slice('je_ingest_'.length));

      // There is no way to read a key back.
      const read = await app.inject({ method: 'GET', url: `/v1/api-keys/${created.id}`, headers: bearer(TEST_ADMIN_KEY) });
      expect(read.statusCode).toBe(404);
      expect(read.body).not.toContain(created.key);
    });

    it('mints a different key and id every time', async () => {
      const [a, b] = [await mint(app, 'ingest', 'same'), await mint(app, 'ingest', 'same')];
      expect(a.id).not.toBe(b.id);
      expect(a.key).not.toBe(b.key);
    });

    it('lets a minted admin key mint keys', async () => {
      const admin = await mint(app, 'admin');
      const response = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: bearer(admin.key),
        payload: { scope: 'ingest', name: 'by a minted admin' },
      });
      expect(response.statusCode).toBe(201);
    });

    it.each(['ingest', 'ops'])('answers 403 to an %s key on the admin routes', async (scope) => {
      const { key, id } = await mint(app, scope);
      const create = await app.inject({
        method: 'POST',
        url: '/v1/api-keys',
        headers: bearer(key),
        payload: { scope: 'admin', name: 'escalation' },
      });
      expect(create.statusCode).toBe(403);
      expect(create.json()).toEqual({ error: `This route needs a key with scope admin; this key's scope is ${scope}` });
      const revoke = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: bearer(key) });
      expect(revoke.statusCode).toBe(403);
      expect(revoke.json()).toEqual({ error: `This route needs a key with scope admin; this key's scope is ${scope}` });
      expect(await stored(id)).toMatchObject({ revokedAt: null });
    });

    it.each([
      ['a missing scope', { name: 'x' }, 'body.scope'],
      ['an unknown scope', { scope: 'root', name: 'x' }, 'body.scope'],
      ['an empty name', { scope: 'ingest', name: '' }, 'body.name'],
      ['a blank name', { scope: 'ingest', name: '   ' }, 'body.name'],
      ['a missing name', { scope: 'ingest' }, 'body.name'],
      ['an extra field', { scope: 'ingest', name: 'x', key: 'je_ingest_chosen' }, 'body.key'],
      ['a name with a lone surrogate (it would be stored changed)', { scope: 'ingest', name: 'web \ud800' }, 'body.name'],
    ])('answers 400 naming the field for %s', async (_case, payload, path) => {
      const response = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(TEST_ADMIN_KEY), payload });
      expect(response.statusCode).toBe(400);
      const body = response.json();
      expect(body.error).toEqual(expect.any(String));
      expect(body.details).toEqual(expect.arrayContaining([expect.objectContaining({ path, message: expect.any(String) })]));
    });
  });

  describe('DELETE /v1/api-keys/:id', () => {
    it('revokes a key: it stops working at once, even though it was just cached', async () => {
      const { id, key } = await mint(app, 'admin');
      // A successful call puts the key in the lookup cache.
      expect(
        (await app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(key), payload: { scope: 'ops', name: 'x' } })).statusCode,
      ).toBe(201);

      const revoke = await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: bearer(TEST_ADMIN_KEY) });
      expect(revoke.statusCode).toBe(204);
      expect(revoke.body).toBe('');

      const after = await app.inject({ method: 'POST', url: '/v1/api-keys', headers: bearer(key), payload: { scope: 'ops', name: 'x' } });
      expect(after.statusCode).toBe(401);
      expect(after.json()).toEqual({ error: 'Invalid or revoked API key' });
      const raw = await stored(id);
      expect(raw?.revokedAt).toBeInstanceOf(Date);
    });

    it('is idempotent for a key already revoked, keeping the first revocation time', async () => {
      const { id } = await mint(app, 'ingest');
      expect((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: bearer(TEST_ADMIN_KEY) })).statusCode).toBe(204);
      const first = (await stored(id))?.revokedAt;
      expect((await app.inject({ method: 'DELETE', url: `/v1/api-keys/${id}`, headers: bearer(TEST_ADMIN_KEY) })).statusCode).toBe(204);
      expect((await stored(id))?.revokedAt).toEqual(first);
    });

    it('answers 404 for an unknown id', async () => {
      const response = await app.inject({ method: 'DELETE', url: '/v1/api-keys/key_doesnotexist', headers: bearer(TEST_ADMIN_KEY) });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual({ error: 'API key key_doesnotexist not found' });
    });

    it('answers 401 without a key, before looking the id up', async () => {
      const response = await app.inject({ method: 'DELETE', url: '/v1/api-keys/key_doesnotexist' });
      expect(response.statusCode).toBe(401);
    });
  });

  describe('public routes', () => {
    it('serves /health, /docs and /docs/json without a key', async () => {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const ui = await app.inject({ method: 'GET', url: '/docs/' });
      expect(ui.statusCode).toBe(200);
      expect(ui.headers['content-type']).toContain('text/html');
      const spec = await app.inject({ method: 'GET', url: '/docs/json' });
      expect(spec.statusCode).toBe(200);
      expect(spec.json().paths['/v1/api-keys'].post.tags).toEqual(['api-keys']);
    });

    it('documents the api-keys routes with their schemas and error responses', async () => {
      const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
      const post = spec.paths['/v1/api-keys'].post;
      expect(Object.keys(post.responses).sort()).toEqual(['201', '400', '401', '403', '429', '503']);
      expect(JSON.stringify(spec.paths['/v1/api-keys'].get.responses['200'])).toContain('#/components/schemas/ApiKeyList');
      expect(Object.keys(spec.components.schemas.ApiKeyList.properties.items.items.properties)).not.toContain('key');
      expect(Object.keys(spec.paths['/v1/api-keys/{id}'].delete.responses).sort()).toEqual([
        '204',
        '400',
        '401',
        '403',
        '404',
        '429',
        '503',
      ]);
      expect(spec.components.schemas).toHaveProperty('CreateApiKeyRequest');
      expect(spec.components.schemas).toHaveProperty('CreatedApiKey');
      expect(spec.paths['/health'].get.security).toEqual([]);
    });

    it('answers unknown routes with a 404, with or without a key', async () => {
      expect((await app.inject({ method: 'GET', url: '/v1/nope' })).statusCode).toBe(404);
      expect((await app.inject({ method: 'GET', url: '/v1/nope', headers: bearer('junk') })).statusCode).toBe(404);
    });
  });
});

describe('route scopes', () => {
  let app: App;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ app, close } = await testApp());
    // Routes that exist only in this test, to exercise each kind of declaration.
    const whoami = async (request: { apiKey: { id: string; scope: string } | null }) => ({ caller: request.apiKey });
    app.get('/test/ingest', { config: { scopes: ['ingest'] } }, whoami);
    app.get('/test/ops-or-ingest', { config: { scopes: ['ops', 'ingest'] } }, whoami);
    app.get('/test/undeclared', whoami);
    app.get('/test/public', { config: { public: true } }, whoami);
  });
  afterAll(async () => close());

  const call = (url: string, key?: string) => app.inject({ method: 'GET', url, headers: key ? bearer(key) : {} });

  it('lets a key call the routes of its scope, and tells the route who called', async () => {
    const ingest = await mint(app, 'ingest');
    const response = await call('/test/ingest', ingest.key);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ caller: { id: ingest.id, scope: 'ingest' } });
    expect((await call('/test/ops-or-ingest', ingest.key)).statusCode).toBe(200);
  });

  it('answers 403 to a key of another scope', async () => {
    const ops = await mint(app, 'ops');
    const response = await call('/test/ingest', ops.key);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: "This route needs a key with scope ingest or admin; this key's scope is ops" });
    expect((await call('/test/ops-or-ingest', ops.key)).statusCode).toBe(200);
  });

  it('lets admin keys call every route', async () => {
    const admin = await mint(app, 'admin');
    expect((await call('/test/ingest', admin.key)).json()).toEqual({ caller: { id: admin.id, scope: 'admin' } });
    expect((await call('/test/ops-or-ingest', TEST_ADMIN_KEY)).json()).toEqual({ caller: { id: 'ADMIN_API_KEY', scope: 'admin' } });
  });

  it('protects a route that declares nothing: a key is needed and only admin keys pass', async () => {
    expect((await call('/test/undeclared')).statusCode).toBe(401);
    expect((await call('/test/undeclared', (await mint(app, 'ingest')).key)).statusCode).toBe(403);
    expect((await call('/test/undeclared', (await mint(app, 'ops')).key)).statusCode).toBe(403);
    expect((await call('/test/undeclared', TEST_ADMIN_KEY)).statusCode).toBe(200);
  });

  it('serves a public route without a key, and without a caller', async () => {
    const response = await call('/test/public');
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ caller: null });
  });
});

describe('route declarations', () => {
  it('refuses to start with a route that is public and scoped, or scoped to nothing', async () => {
    const t = await testApp();
    try {
      expect(() => t.app.get('/test/both', { config: { public: true, scopes: ['ingest'] } }, async () => 'x')).toThrow(
        /public and also declares scopes/,
      );
      expect(() => t.app.get('/test/none', { config: { scopes: [] } }, async () => 'x')).toThrow(/declares no scopes/);
    } finally {
      await t.close();
    }
  });
});
