import { ATTRIBUTE_NAME_PATTERN, JsonValueSchema, type JsonValue } from '@journey/core';
import type { Db } from 'mongodb';
import { z } from 'zod';
import { isDuplicateKeyError, isOnlyDuplicateKeys } from './store-errors.js';

/**
 * Attribute names become MongoDB field paths (`attributes.<name>`): no dots, no leading `$`. The API refuses
 * other names with a 400 naming the attribute, so nothing reaches the store half-applied.
 */
export const AttributeNameSchema = z
  .string()
  .regex(ATTRIBUTE_NAME_PATTERN, 'attribute names are 1-64 letters, digits, _ or - (not starting with -)');

const UserDocumentSchema = z.object({
  _id: z.string(),
  // Absent reads as {}: a first merge that sets no attribute (empty, or only removals) upserts no attributes field,
  // and cannot add one with $setOnInsert without conflicting with its own $unset paths.
  attributes: z
    .record(z.string(), JsonValueSchema)
    .optional()
    .transform((value) => value ?? {}),
  /** The id of the last ingest record applied to the user (a Redis stream id): makes re-applying a record a no-op. */
  // Absent reads as null: a document written before the field existed.
  lastRecord: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  /** Message types the user muted, sorted; absent reads as none. */
  muted: z
    .array(z.string())
    .optional()
    .transform((value) => value ?? []),
  /** Keys of the user_update visits applied last (each applies once), newest last, a few kept. */
  appliedUpdates: z.array(z.string()).optional(),
  /** Set when the user was erased: the document is only a tombstone (its `lastRecord` holds back earlier records). */
  erasedAt: z.date().nullish(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
// As stored: fields written before they existed may be absent (the schema reads them with their defaults).
type UserDocument = z.input<typeof UserDocumentSchema>;

/** How many user_update keys a user keeps: a retry of a visit comes long before this many later updates. */
const APPLIED_UPDATES_KEPT = 50;

/** Reads that see a user: an erased user's tombstone is no user. */
const LIVE = { erasedAt: null };

export interface User {
  userId: string;
  attributes: Record<string, JsonValue>;
  /** Message types the user muted (sorted): dispatch skips their messages. */
  muted: string[];
  lastRecord: string | null;
  /** An erased user's tombstone (only getOrCreate hands one out: every other read hides it). */
  erased: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface UsersRepository {
  ensureIndexes(): Promise<void>;
  /** Upserts the user and merges the attributes in one write; a `null` value removes that attribute. */
  mergeAttributes(userId: string, attributes: Record<string, JsonValue>, now: Date): Promise<User>;
  get(userId: string): Promise<User | null>;
  /** The users of these ids that exist, in one query by key (a dispatch slice reads its users at once). */
  getMany(userIds: readonly string[]): Promise<User[]>;
  /** The user, created with no attributes when unknown (an event may come before any attributes). */
  getOrCreate(userId: string, now: Date): Promise<User>;
  /** Creates the users of these ids that do not exist yet, with no attributes, in one unordered write (imports). */
  createMany(userIds: readonly string[], now: Date): Promise<void>;
  /**
   * Records that the ingest record `recordId` was applied, only if it is newer than the last one; false means it
   * was applied before (a retried drain), and the caller must not apply it again.
   */
  markRecordApplied(userId: string, recordId: string, now: Date): Promise<boolean>;
  /** Users in `_id` order after `afterUserId`, for walking the whole audience of a scheduled journey in pages. */
  page(afterUserId: string | null, limit: number): Promise<User[]>;
  /**
   * `page` for the users whose `timezone` attribute is one of `zones`, or (with `orNotIn`) is none of those zones
   * (missing, or not a zone): a "user"-zoned schedule run reads only its zones' users, through the index on it.
   */
  pageInZones(afterUserId: string | null, limit: number, zones: readonly string[], orNotIn: readonly string[] | null): Promise<User[]>;
  /**
   * Applies a user_update once per `key` (a retried visit changes nothing again) and returns the user as it is
   * after; null when there is no live user (erased).
   */
  applyUpdate(
    userId: string,
    change: { key: string; set: Record<string, JsonValue>; unset: readonly string[] },
    now: Date,
  ): Promise<User | null>;
  /**
   * Erases the user: the document becomes a tombstone with no attributes whose `lastRecord` is `upToRecord`, so the
   * user's records up to the erasure are never applied. False when there was no live user.
   */
  erase(userId: string, upToRecord: string, now: Date): Promise<boolean>;
  /** An erased user's record after the erasure: the tombstone becomes a user again (a new profile). */
  revive(userId: string, now: Date): Promise<void>;
  /**
   * Mutes and unmutes message types in one write (a type may not be in both) and returns the user after; creates the
   * user when unknown and brings an erased one back, as writing attributes does.
   */
  updateMuted(userId: string, change: { muted?: readonly string[]; unmuted?: readonly string[] }, now: Date): Promise<User>;
}

/** Concurrent changes of one user's mutes each retry on the list they read; beyond this many, something is wrong. */
const MUTE_WRITE_TRIES = 10;

const COLLECTION = 'users';

function toUser(stored: unknown): User {
  const doc = UserDocumentSchema.parse(stored);
  return {
    userId: doc._id,
    attributes: doc.attributes,
    muted: doc.muted,
    lastRecord: doc.lastRecord,
    erased: doc.erasedAt != null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

/**
 * The stream id just before `id` (`<ms>-<seq>`): records up to it are held back by an erasure made at once, while
 * the erase record itself is still applied by the drain (see eraseUser).
 */
export function previousStreamId(id: string): string {
  const [ms = 0, seq = 0] = id.split('-').map(Number);
  return seq > 0 ? `${ms}-${seq - 1}` : `${ms - 1}-${Number.MAX_SAFE_INTEGER}`;
}

/** Redis stream ids (`<ms>-<seq>`) compare as pairs of integers, not as strings. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs !== bMs ? aMs - bMs : aSeq - bSeq;
}

export function createUsersRepository(db: Db): UsersRepository {
  const users = db.collection<UserDocument>(COLLECTION);

  async function getOrCreate(userId: string, now: Date): Promise<User> {
    const doc = await users.findOneAndUpdate(
      { _id: userId },
      { $setOnInsert: { attributes: {}, lastRecord: null, createdAt: now, updatedAt: now } },
      { upsert: true, returnDocument: 'after' },
    );
    return toUser(doc);
  }

  async function getLive(userId: string): Promise<User | null> {
    const doc = await users.findOne({ _id: userId, ...LIVE });
    return doc ? toUser(doc) : null;
  }

  return {
    async ensureIndexes() {
      // `_id` is the user id (the shard key on a sharded cluster, hashed): lookups and paging need nothing more;
      // "user"-zoned schedules read users by zone.
      await users.createIndex({ 'attributes.timezone': 1, _id: 1 }, { name: 'timezone_id' });
    },

    async mergeAttributes(userId, attributes, now) {
      const set: Record<string, JsonValue | Date> = { updatedAt: now };
      const unset: Record<string, ''> = {};
      for (const [name, value] of Object.entries(attributes)) {
        if (value === null) unset[`attributes.${name}`] = '';
        else set[`attributes.${name}`] = value;
      }
      // Writing attributes brings an erased user back (a new profile; its erased records stay unapplied).
      unset['erasedAt'] = '';
      const doc = await users.findOneAndUpdate(
        { _id: userId },
        { $set: set, $unset: unset, $setOnInsert: { lastRecord: null, createdAt: now } },
        { upsert: true, returnDocument: 'after' },
      );
      return toUser(doc);
    },

    get: getLive,

    async getMany(userIds) {
      if (userIds.length === 0) return [];
      const docs = await users.find({ _id: { $in: [...userIds] }, ...LIVE }).toArray();
      return docs.map(toUser);
    },

    getOrCreate,

    async createMany(userIds, now) {
      if (userIds.length === 0) return;
      const docs = userIds.map((_id) => ({ _id, attributes: {}, lastRecord: null, createdAt: now, updatedAt: now }));
      await users.insertMany(docs, { ordered: false }).catch((error: unknown) => {
        // Users that exist already are left as they are.
        if (!isOnlyDuplicateKeys(error)) throw error;
      });
    },

    async markRecordApplied(userId, recordId, now) {
      const user = await getOrCreate(userId, now);
      if (user.lastRecord !== null && compareStreamIds(recordId, user.lastRecord) <= 0) return false;
      // Conditional on the value just read, so two appliers of the same record cannot both succeed.
      const result = await users.updateOne(
        { _id: userId, lastRecord: user.lastRecord },
        { $set: { lastRecord: recordId, updatedAt: now } },
      );
      return result.modifiedCount === 1;
    },

    // By `_id` range: on a cluster sharded on { _id: "hashed" } every shard answers its next users and mongos merges
    // them; only schedule triggers walk every user, in the background.
    async page(afterUserId, limit) {
      const filter = afterUserId === null ? LIVE : { _id: { $gt: afterUserId }, ...LIVE };
      const docs = await users.find(filter).sort({ _id: 1 }).limit(limit).toArray();
      return docs.map(toUser);
    },

    async pageInZones(afterUserId, limit, zones, orNotIn) {
      const inZones = [
        { 'attributes.timezone': { $in: [...zones] } },
        ...(orNotIn ? [{ 'attributes.timezone': { $nin: [...orNotIn] } }] : []),
      ];
      const docs = await users
        .find({ ...(afterUserId === null ? {} : { _id: { $gt: afterUserId } }), ...LIVE, $or: inZones })
        .sort({ _id: 1 })
        .limit(limit)
        .toArray();
      return docs.map(toUser);
    },

    async applyUpdate(userId, { key, set, unset }, now) {
      const $set: Record<string, JsonValue | Date> = { updatedAt: now };
      for (const [name, value] of Object.entries(set)) $set[`attributes.${name}`] = value;
      const $unset: Record<string, ''> = Object.fromEntries(unset.map((name) => [`attributes.${name}`, ''] as const));
      const doc = await users.findOneAndUpdate(
        { _id: userId, ...LIVE, appliedUpdates: { $ne: key } },
        {
          $set,
          ...(unset.length > 0 ? { $unset } : {}),
          $push: { appliedUpdates: { $each: [key], $slice: -APPLIED_UPDATES_KEPT } },
        },
        { returnDocument: 'after' },
      );
      // Not changed now: applied before (this visit's retry), or no live user.
      return doc ? toUser(doc) : getLive(userId);
    },

    async erase(userId, upToRecord, now) {
      const erased = await users.findOneAndReplace(
        { _id: userId, ...LIVE },
        { attributes: {}, lastRecord: upToRecord, erasedAt: now, createdAt: now, updatedAt: now },
      );
      if (erased) return true;
      // Erased already (the API, then the drain applying the erase record): only move its record mark forward.
      // Stream ids compare as numbers, not as strings: read, compare, and write on the value read.
      const tombstone = await users.findOne({ _id: userId, erasedAt: { $ne: null } });
      if (tombstone && (tombstone.lastRecord == null || compareStreamIds(upToRecord, tombstone.lastRecord) > 0)) {
        await users.updateOne({ _id: userId, lastRecord: tombstone.lastRecord }, { $set: { lastRecord: upToRecord, updatedAt: now } });
      }
      return false;
    },

    async updateMuted(userId, { muted = [], unmuted = [] }, now) {
      for (let tries = 0; tries < MUTE_WRITE_TRIES; tries++) {
        const current = await users.findOne({ _id: userId }, { projection: { muted: 1 } });
        const before = current?.muted ?? [];
        const after = [...new Set([...before, ...muted])].filter((type) => !unmuted.includes(type)).sort();
        // Conditional on the list just read (absent or equal): of two concurrent changes, the later one reads again.
        const doc = await users
          .findOneAndUpdate(
            { _id: userId, muted: current?.muted === undefined ? { $exists: false } : before },
            {
              $set: { muted: after, updatedAt: now },
              $unset: { erasedAt: '' },
              $setOnInsert: { attributes: {}, lastRecord: null, createdAt: now },
            },
            { upsert: current === null, returnDocument: 'after' },
          )
          .catch((error: unknown) => {
            // Two first writes of an unknown user: the other inserted it; read and try again.
            if (current === null && isDuplicateKeyError(error)) return null;
            throw error;
          });
        if (doc) return toUser(doc);
      }
      throw new Error(`the mutes of user ${userId} changed ${MUTE_WRITE_TRIES} times while being written`);
    },

    async revive(userId, now) {
      await users.updateOne({ _id: userId, erasedAt: { $ne: null } }, { $unset: { erasedAt: '' }, $set: { updatedAt: now } });
    },
  };
}
