import { testServers, uniqueName } from '@journey/embedded/testing';
import { MongoServerError } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, pingMongo, type MongoStore } from '../src/index.js';

/** What the engine needs from its MongoDB-protocol server, checked against the real one of this run. */
describe('MongoDB round trip', () => {
  let store: MongoStore;

  beforeAll(async () => {
    store = await connectMongo(testServers().mongoUri, uniqueName('roundtrip'));
    const info = await store.db.admin().command({ buildInfo: 1 });
    console.log(
      `MongoDB server under test: version ${info.version}${typeof info.journeyStore === 'string' ? ` (${info.journeyStore})` : ''}`,
    );
  });

  afterAll(async () => {
    await store.db.dropDatabase();
    await store.close();
  });

  // A statement of an update command must see what the statements before it wrote, and a conditional one must miss.
  it('applies the statements of one update command in order, each seeing what the ones before it wrote', async () => {
    const docs = store.db.collection<{ _id: string; n: number; by?: string }>('bulk_order');
    await docs.insertMany([
      { _id: 'a', n: 0 },
      { _id: 'b', n: 0 },
      { _id: 'c', n: 0 },
    ]);
    const result = await docs.bulkWrite(
      [
        { updateOne: { filter: { _id: 'a', n: 0 }, update: { $set: { n: 1 } } } },
        { updateOne: { filter: { _id: 'b', n: 0 }, update: { $set: { n: 1 } } } },
        { updateOne: { filter: { _id: 'a', n: 1 }, update: { $set: { n: 2 } } } },
        { updateOne: { filter: { _id: 'c', n: 5 }, update: { $set: { n: 9 } } } },
        { updateMany: { filter: { n: 1 }, update: { $set: { by: 'many' } } } },
        { updateOne: { filter: { _id: 'b', by: 'many' }, update: { $inc: { n: 10 } } } },
      ],
      { ordered: true },
    );
    expect(result.matchedCount).toBe(5);
    expect(await docs.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'a', n: 2 },
      { _id: 'b', n: 11, by: 'many' },
      { _id: 'c', n: 0 },
    ]);
  });

  it('applies a command whose statements each target another document: conditions, missing documents and upserts', async () => {
    const docs = store.db.collection<{ _id: string; n: number }>('bulk_distinct');
    await docs.insertMany([
      { _id: 'x', n: 0 },
      { _id: 'y', n: 0 },
    ]);
    const result = await docs.bulkWrite(
      [
        { updateOne: { filter: { _id: 'x', n: 0 }, update: { $set: { n: 1 } } } },
        { updateOne: { filter: { _id: 'y', n: 5 }, update: { $set: { n: 9 } } } },
        { updateOne: { filter: { _id: 'z' }, update: { $set: { n: 9 } } } },
        { updateOne: { filter: { _id: 'w' }, update: { $set: { n: 7 } }, upsert: true } },
      ],
      { ordered: false },
    );
    expect({ matched: result.matchedCount, modified: result.modifiedCount, upserted: result.upsertedCount }).toEqual({
      matched: 1,
      modified: 1,
      upserted: 1,
    });
    expect(await docs.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: 'w', n: 7 },
      { _id: 'x', n: 1 },
      { _id: 'y', n: 0 },
    ]);
  });

  // The engine's exactly-once rests on conditional writes being atomic: of concurrent writes whose condition only one
  // can meet, one lands: the server must serialize the read, check and write of one document.
  describe('concurrent writes to one document', () => {
    const rounds = 40;

    it('lets exactly one of concurrent conditional updates land, and loses no increment', async () => {
      const docs = store.db.collection<{ _id: string; v: number; wins?: number; n?: number }>('race_update');
      await docs.insertOne({ _id: 'race', v: 0 });
      const results = await Promise.all(
        Array.from({ length: rounds }, (_, i) =>
          i % 2 === 0
            ? docs.updateOne({ _id: 'race', v: 0 }, { $set: { v: 1 }, $inc: { wins: 1 } })
            : docs.updateOne({ _id: 'race' }, { $inc: { n: 1 } }),
        ),
      );
      const conditional = results.filter((_, i) => i % 2 === 0);
      expect(conditional.filter((r) => r.modifiedCount === 1)).toHaveLength(1);
      expect(await docs.findOne({ _id: 'race' })).toEqual({ _id: 'race', v: 1, wins: 1, n: rounds / 2 });
    });

    it('applies concurrent bulk commands over the same documents in any order without losing one', async () => {
      const docs = store.db.collection<{ _id: string; n: number }>('race_bulk');
      const ids = Array.from({ length: 20 }, (_, i) => `d${i}`);
      await docs.insertMany(ids.map((_id) => ({ _id, n: 0 })));
      // Each command takes the documents in another order (rotated, every other one reversed): a lock per document
      // taken in statement order would deadlock.
      const commands = 10;
      await Promise.all(
        Array.from({ length: commands }, (_, c) => {
          const rotated = [...ids.slice(c), ...ids.slice(0, c)];
          const order = c % 2 === 0 ? rotated : rotated.reverse();
          return docs.bulkWrite(
            order.map((_id) => ({ updateOne: { filter: { _id }, update: { $inc: { n: 1 } } } })),
            { ordered: c % 3 === 0 },
          );
        }),
      );
      expect((await docs.find().sort({ _id: 1 }).toArray()).map((d) => d.n)).toEqual(ids.map(() => commands));
    });

    it('gives a document to exactly one of concurrent conditional findOneAndUpdate calls', async () => {
      const docs = store.db.collection<{ _id: string; owner: number | null }>('race_claim');
      await docs.insertOne({ _id: 'claim', owner: null });
      const claimed = await Promise.all(
        Array.from({ length: rounds }, (_, i) =>
          docs.findOneAndUpdate({ _id: 'claim', owner: null }, { $set: { owner: i } }, { returnDocument: 'after' }),
        ),
      );
      const winners = claimed.filter((doc) => doc !== null);
      expect(winners).toHaveLength(1);
      expect(await docs.findOne({ _id: 'claim' })).toEqual(winners[0]);
    });

    it('lets either a conditional delete or a conditional update of one document land, never both', async () => {
      const docs = store.db.collection<{ _id: string; status: string }>('race_delete');
      await docs.insertMany(Array.from({ length: rounds }, (_, i) => ({ _id: `r${i}`, status: 'active' })));
      const outcomes = await Promise.all(
        Array.from({ length: rounds }, async (_, i) => {
          const [updated, deleted] = await Promise.all([
            docs.updateOne({ _id: `r${i}`, status: 'active' }, { $set: { status: 'done' } }),
            docs.deleteOne({ _id: `r${i}`, status: 'active' }),
          ]);
          const left = await docs.findOne({ _id: `r${i}` });
          return {
            landed: updated.modifiedCount + deleted.deletedCount,
            left: left?.status ?? 'deleted',
            updated: updated.modifiedCount === 1,
          };
        }),
      );
      for (const outcome of outcomes) {
        expect(outcome.landed).toBe(1);
        expect(outcome.left).toBe(outcome.updated ? 'done' : 'deleted');
      }
    });
  });

  it('answers ping', async () => {
    expect(await pingMongo(store.db)).toBeGreaterThanOrEqual(0);
  });

  it('enforces a unique index, created idempotently', async () => {
    const users = store.db.collection<{ userId: string }>('users');
    expect(await users.createIndex({ userId: 1 }, { unique: true, name: 'userId_unique' })).toBe('userId_unique');
    expect(await users.createIndex({ userId: 1 }, { unique: true, name: 'userId_unique' })).toBe('userId_unique');
    await users.insertOne({ userId: 'u1' });
    const duplicate = await users.insertOne({ userId: 'u1' }).catch((error: unknown) => error);
    expect(duplicate).toBeInstanceOf(MongoServerError);
    expect((duplicate as MongoServerError).code).toBe(11000);
  });

  it('upserts with findOneAndUpdate and returns the new document', async () => {
    const states = store.db.collection<{ _id: string; step: string; n: number; createdAt: Date }>('states');
    const first = await states.findOneAndUpdate(
      { _id: 'j1:u1' },
      { $set: { step: 'welcome' }, $inc: { n: 1 }, $setOnInsert: { createdAt: new Date(0) } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(first).toMatchObject({ _id: 'j1:u1', step: 'welcome', n: 1, createdAt: new Date(0) });
    const second = await states.findOneAndUpdate(
      { _id: 'j1:u1' },
      { $set: { step: 'wait' }, $inc: { n: 1 } },
      { upsert: true, returnDocument: 'after' },
    );
    expect(second).toMatchObject({ step: 'wait', n: 2, createdAt: new Date(0) });
    // A conditional update that does not match changes nothing: the basis of optimistic concurrency.
    const stale = await states.updateOne({ _id: 'j1:u1', n: 1 }, { $set: { step: 'stale' } });
    expect(stale.matchedCount).toBe(0);
  });

  it('applies an unordered bulkWrite and groups with an aggregation', async () => {
    const sends = store.db.collection<{ _id: string; branch: string; status: string }>('sends');
    const result = await sends.bulkWrite(
      [
        { insertOne: { document: { _id: 'm1', branch: 'A', status: 'sent' } } },
        { insertOne: { document: { _id: 'm2', branch: 'B', status: 'sent' } } },
        { updateOne: { filter: { _id: 'm3' }, update: { $set: { branch: 'A', status: 'failed' } }, upsert: true } },
        { updateOne: { filter: { _id: 'm1' }, update: { $set: { status: 'delivered' } } } },
      ],
      { ordered: false },
    );
    expect(result.insertedCount).toBe(2);
    expect(result.upsertedCount).toBe(1);
    expect(result.modifiedCount).toBe(1);
    const byBranch = await sends
      .aggregate<{ _id: string; total: number }>([{ $group: { _id: '$branch', total: { $sum: 1 } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(byBranch).toEqual([
      { _id: 'A', total: 2 },
      { _id: 'B', total: 1 },
    ]);
  });
});
