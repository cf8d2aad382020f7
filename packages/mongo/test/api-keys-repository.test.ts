import { eventually, testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createApiKeysRepository, type MongoStore } from '../src/index.js';

describe('API keys repository', () => {
  let store: MongoStore;

  beforeAll(async () => {
    store = await connectMongo(testServers().mongoUri, uniqueName('apikeys'));
    await createApiKeysRepository(store.db).ensureIndexes();
  });

  afterAll(async () => {
    await store.db.dropDatabase();
    await store.close();
  });

  it('creates its indexes idempotently, with a unique key hash', async () => {
    const repo = createApiKeysRepository(store.db);
    await repo.ensureIndexes();
    await repo.ensureIndexes();
    const indexes = await store.db.collection('api_keys').indexes();
    expect(indexes.find((index) => index.name === 'keyHash_unique')).toMatchObject({ key: { keyHash: 1 }, unique: true });
  });

  it('finds an active key by its plaintext, and nothing for an unknown one', async () => {
    const repo = createApiKeysRepository(store.db, { now: () => Date.parse('2030-01-02T03:04:05Z') });
    const created = await repo.create({ scope: 'ops', name: 'grafana' });
    expect(await repo.findActiveByKey(created.key)).toEqual({
      id: created.id,
      scope: 'ops',
      name: 'grafana',
      createdAt: new Date('2030-01-02T03:04:05Z'),
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(await repo.findActiveByKey(`${created.key}x`)).toBeNull();
  });

  it('lists keys without their secret, with when each was last used (written at most once a minute)', async () => {
    let now = Date.parse('2030-01-02T03:04:05Z');
    const repo = createApiKeysRepository(store.db, { now: () => now });
    const used = await repo.create({ scope: 'ingest', name: 'app' });
    now += 1_000; // listed oldest first
    const idle = await repo.create({ scope: 'ops', name: 'grafana' });
    await repo.findActiveByKey(used.key);
    const first = new Date(now);
    now += 30_000;
    await repo.findActiveByKey(used.key);
    await eventually(async () => (await repo.list()).find((key) => key.id === used.id)?.lastUsedAt?.getTime() === first.getTime(), {
      what: 'the first use noted',
    });
    now += 60_000;
    await repo.findActiveByKey(used.key);
    await eventually(async () => (await repo.list()).find((key) => key.id === used.id)?.lastUsedAt?.getTime() === now, {
      what: 'a use a minute later noted',
    });
    const listed = (await repo.list()).filter((key) => key.id === used.id || key.id === idle.id);
    expect(listed.map((key) => [key.id, key.scope, key.name, key.lastUsedAt === null])).toEqual([
      [used.id, 'ingest', 'app', false],
      [idle.id, 'ops', 'grafana', true],
    ]);
    for (const key of listed) expect(Object.keys(key).sort()).toEqual(['createdAt', 'id', 'lastUsedAt', 'name', 'revokedAt', 'scope']);
  });

  it('revokes: true for a known id (again too), false for an unknown one', async () => {
    const repo = createApiKeysRepository(store.db);
    const created = await repo.create({ scope: 'ingest', name: 'app' });
    expect(await repo.revoke(created.id)).toBe(true);
    expect(await repo.revoke(created.id)).toBe(true);
    expect(await repo.revoke('key_unknown')).toBe(false);
    expect(await repo.findActiveByKey(created.key)).toBeNull();
  });

  it('rejects a stored document that does not match the schema instead of trusting it', async () => {
    const repo = createApiKeysRepository(store.db);
    const created = await repo.create({ scope: 'ingest', name: 'app' });
    await store.db.collection<{ _id: string }>('api_keys').updateOne({ _id: created.id }, { $set: { scope: 'superuser' } });
    await expect(repo.findActiveByKey(created.key)).rejects.toThrow();
  });

  it('stops accepting a key revoked by another process once the cache entry is older than cacheTtlMs', async () => {
    let now = 1_000_000;
    const replica = createApiKeysRepository(store.db, { cacheTtlMs: 30_000, now: () => now });
    const other = createApiKeysRepository(store.db);
    const created = await replica.create({ scope: 'ingest', name: 'app' });
    expect(await replica.findActiveByKey(created.key)).not.toBeNull();

    expect(await other.revoke(created.id)).toBe(true);
    now += 29_999;
    expect(await replica.findActiveByKey(created.key)).toMatchObject({ id: created.id }); // still within the bound
    now += 1;
    expect(await replica.findActiveByKey(created.key)).toBeNull();
  });

  it('keeps at most cacheMaxEntries keys, dropping the least recently used', async () => {
    const replica = createApiKeysRepository(store.db, { cacheMaxEntries: 2, now: () => 0 });
    const other = createApiKeysRepository(store.db);
    const [a, b, c] = [
      await replica.create({ scope: 'ingest', name: 'a' }),
      await replica.create({ scope: 'ingest', name: 'b' }),
      await replica.create({ scope: 'ingest', name: 'c' }),
    ];
    await replica.findActiveByKey(a.key);
    await replica.findActiveByKey(b.key);
    await replica.findActiveByKey(a.key); // a is now the most recently used
    await replica.findActiveByKey(c.key); // evicts b

    for (const key of [a, b, c]) await other.revoke(key.id);
    // Cached entries still answer (revoked elsewhere, within the TTL); the evicted one is read again and refused.
    expect(await replica.findActiveByKey(a.key)).not.toBeNull();
    expect(await replica.findActiveByKey(c.key)).not.toBeNull();
    expect(await replica.findActiveByKey(b.key)).toBeNull();
  });

  it('does not cache when cacheTtlMs is 0', async () => {
    const replica = createApiKeysRepository(store.db, { cacheTtlMs: 0 });
    const created = await replica.create({ scope: 'admin', name: 'root' });
    expect(await replica.findActiveByKey(created.key)).not.toBeNull();
    await createApiKeysRepository(store.db).revoke(created.id);
    expect(await replica.findActiveByKey(created.key)).toBeNull();
  });
});
