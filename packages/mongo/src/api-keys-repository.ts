import { createHash, randomBytes } from 'node:crypto';
import type { Db } from 'mongodb';
import { z } from 'zod';

/** What a key may do: `admin` (journeys, users, keys), `ingest` (events, user attributes), `ops` (queue stats). */
export const ApiKeyScopeSchema = z.enum(['admin', 'ingest', 'ops']);
export type ApiKeyScope = z.infer<typeof ApiKeyScopeSchema>;

/**
 * A stored key holds only the SHA-256 of the key. A fast hash is enough here (unlike passwords): the key
 * carries 256 random bits, so there is nothing to guess, and a deterministic hash can be looked up by index.
 */
const ApiKeyDocumentSchema = z.object({
  _id: z.string().startsWith('key_'),
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  scope: ApiKeyScopeSchema,
  name: z.string(),
  createdAt: z.date(),
  revokedAt: z.date().nullable(),
  /** When the key last authenticated a request (to the minute: see LAST_USED_RESOLUTION_MS); absent until then. */
  lastUsedAt: z.date().nullish(),
});
type ApiKeyDocument = z.infer<typeof ApiKeyDocumentSchema>;

/** A key as the engine sees it, without its secret. */
export interface ApiKey {
  id: string;
  scope: ApiKeyScope;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What `create` returns: the only time the plaintext key exists outside the caller's hands. */
export interface CreatedApiKey extends ApiKey {
  key: string;
}

export interface ApiKeysRepositoryOptions {
  /**
   * How long an active key found by `findActiveByKey` is served from memory (default 30 s; 0 disables the cache).
   * This is the bound on revocation: a key revoked through this repository stops working at once, a key revoked
   * through another process (another API replica) stops working here within `cacheTtlMs`.
   */
  cacheTtlMs?: number;
  /** At most this many keys are cached (default 10 000); the least recently used is dropped first. */
  cacheMaxEntries?: number;
  /** Milliseconds since the epoch; tests inject a clock instead of waiting. */
  now?: () => number;
}

export interface ApiKeysRepository {
  /** Idempotent: safe on every start. */
  ensureIndexes(): Promise<void>;
  create(input: { scope: ApiKeyScope; name: string }): Promise<CreatedApiKey>;
  /** The unrevoked key with this plaintext, or null. */
  findActiveByKey(plaintext: string): Promise<ApiKey | null>;
  /** Marks the key revoked (keeping the first revocation time); false when no key has this id. */
  revoke(id: string): Promise<boolean>;
  /** Every stored key, oldest first, without its secret (only its hash is stored anyway). */
  list(): Promise<ApiKey[]>;
}

/** A key's last use is written at most once a minute per process: a request must not cost a write. */
const LAST_USED_RESOLUTION_MS = 60_000;

const COLLECTION = 'api_keys';

function hashKey(plaintext: string): string {
  return createHash('sha256').update(plaintext, 'utf8').digest('hex');
}

function toApiKey(stored: unknown): { keyHash: string; apiKey: ApiKey } {
  const doc = ApiKeyDocumentSchema.parse(stored);
  return {
    keyHash: doc.keyHash,
    apiKey: {
      id: doc._id,
      scope: doc.scope,
      name: doc.name,
      createdAt: doc.createdAt,
      revokedAt: doc.revokedAt,
      lastUsedAt: doc.lastUsedAt ?? null,
    },
  };
}

export function createApiKeysRepository(db: Db, options: ApiKeysRepositoryOptions = {}): ApiKeysRepository {
  const collection = db.collection<ApiKeyDocument>(COLLECTION);
  const ttlMs = options.cacheTtlMs ?? 30_000;
  const maxEntries = options.cacheMaxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  // Only active keys are cached (by hash): an unknown key always reaches MongoDB, so a freshly minted key works at once.
  // Map iteration order is insertion order, so re-inserting on a hit makes the first entry the least recently used.
  const cache = new Map<string, { apiKey: ApiKey; expiresAt: number }>();

  function remember(keyHash: string, apiKey: ApiKey): void {
    if (ttlMs <= 0 || maxEntries <= 0) return;
    cache.delete(keyHash);
    cache.set(keyHash, { apiKey, expiresAt: now() + ttlMs });
    while (cache.size > maxEntries) {
      const oldest = cache.keys().next();
      if (oldest.done) break;
      cache.delete(oldest.value);
    }
  }

  const touched = new Map<string, number>();
  /** Notes the key's use, best effort: a failed write must not fail the request it authenticated. */
  function touch(id: string): void {
    const at = now();
    if (at - (touched.get(id) ?? 0) < LAST_USED_RESOLUTION_MS) return;
    if (touched.size >= maxEntries) touched.clear();
    touched.set(id, at);
    collection.updateOne({ _id: id }, { $max: { lastUsedAt: new Date(at) } }).catch(() => touched.delete(id));
  }

  function recall(keyHash: string): ApiKey | undefined {
    const entry = cache.get(keyHash);
    if (!entry) return undefined;
    cache.delete(keyHash);
    if (entry.expiresAt <= now()) return undefined;
    cache.set(keyHash, entry);
    return entry.apiKey;
  }

  return {
    async ensureIndexes() {
      await collection.createIndex({ keyHash: 1 }, { unique: true, name: 'keyHash_unique' });
    },

    async create({ scope, name }) {
      const id = `key_${randomBytes(12).toString('base64url')}`;
      const key = `je_${scope}_${randomBytes(32).toString('base64url')}`;
      const doc: ApiKeyDocument = { _id: id, keyHash: hashKey(key), scope, name, createdAt: new Date(now()), revokedAt: null };
      await collection.insertOne(doc);
      return { id, key, scope, name, createdAt: doc.createdAt, revokedAt: null, lastUsedAt: null };
    },

    async findActiveByKey(plaintext) {
      const keyHash = hashKey(plaintext);
      const cached = recall(keyHash);
      if (cached) {
        touch(cached.id);
        return cached;
      }
      const stored = await collection.findOne({ keyHash, revokedAt: null });
      if (!stored) return null;
      const { apiKey } = toApiKey(stored);
      remember(keyHash, apiKey);
      touch(apiKey.id);
      return apiKey;
    },

    async list() {
      const stored = await collection
        .find({}, { projection: { keyHash: 1, scope: 1, name: 1, createdAt: 1, revokedAt: 1, lastUsedAt: 1 } })
        .sort({ createdAt: 1, _id: 1 })
        .toArray();
      return stored.map((doc) => toApiKey(doc).apiKey);
    },

    async revoke(id) {
      const revoked = await collection.findOneAndUpdate(
        { _id: id, revokedAt: null },
        { $set: { revokedAt: new Date(now()) } },
        { returnDocument: 'after' },
      );
      const stored = revoked ?? (await collection.findOne({ _id: id }));
      if (!stored) return false;
      cache.delete(toApiKey(stored).keyHash);
      return true;
    },
  };
}
