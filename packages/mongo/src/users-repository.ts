import { JsonValueSchema, type JsonValue } from '@journey/core';
import type { Db } from 'mongodb';
import { z } from 'zod';

/**
 * Attribute names become MongoDB field paths (`attributes.<name>`): no dots, no leading `$`. The API refuses
 * other names with a 400 naming the attribute, so nothing reaches the store half-applied.
 */
export const AttributeNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'attribute names are 1-64 letters, digits, _ or - (not starting with -)');

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
  createdAt: z.date(),
  updatedAt: z.date(),
});
type UserDocument = z.infer<typeof UserDocumentSchema>;

export interface User {
  userId: string;
  attributes: Record<string, JsonValue>;
  lastRecord: string | null;
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
  /**
   * Records that the ingest record `recordId` was applied, only if it is newer than the last one; false means it
   * was applied before (a retried drain), and the caller must not apply it again.
   */
  markRecordApplied(userId: string, recordId: string, now: Date): Promise<boolean>;
  /** Users in `_id` order after `afterUserId`, for walking the whole audience of a scheduled journey in pages. */
  page(afterUserId: string | null, limit: number): Promise<User[]>;
}

const COLLECTION = 'users';

function toUser(stored: unknown): User {
  const doc = UserDocumentSchema.parse(stored);
  return { userId: doc._id, attributes: doc.attributes, lastRecord: doc.lastRecord, createdAt: doc.createdAt, updatedAt: doc.updatedAt };
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

  return {
    async ensureIndexes() {
      // `_id` is the user id (the shard key on a sharded cluster, hashed): lookups and paging need no further index.
    },

    async mergeAttributes(userId, attributes, now) {
      const set: Record<string, JsonValue | Date> = { updatedAt: now };
      const unset: Record<string, ''> = {};
      for (const [name, value] of Object.entries(attributes)) {
        if (value === null) unset[`attributes.${name}`] = '';
        else set[`attributes.${name}`] = value;
      }
      const doc = await users.findOneAndUpdate(
        { _id: userId },
        {
          $set: set,
          ...(Object.keys(unset).length > 0 ? { $unset: unset } : {}),
          $setOnInsert: { lastRecord: null, createdAt: now },
        },
        { upsert: true, returnDocument: 'after' },
      );
      return toUser(doc);
    },

    async get(userId) {
      const doc = await users.findOne({ _id: userId });
      return doc ? toUser(doc) : null;
    },

    async getMany(userIds) {
      if (userIds.length === 0) return [];
      const docs = await users.find({ _id: { $in: [...userIds] } }).toArray();
      return docs.map(toUser);
    },

    getOrCreate,

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
      const filter = afterUserId === null ? {} : { _id: { $gt: afterUserId } };
      const docs = await users.find(filter).sort({ _id: 1 }).limit(limit).toArray();
      return docs.map(toUser);
    },
  };
}
