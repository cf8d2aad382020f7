import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, MongoServerError } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startJavaStore, type JavaStore } from '../src/java-store.js';
import { eventually } from '../src/testing.js';

const quiet = { info: () => {}, warn: () => {} };

interface Doc {
  _id: string;
  userId: string;
  journeyId: string;
  status: string;
  n: number;
}

describe('embedded store on its H2 file', () => {
  let dataDir: string;
  let store: JavaStore | undefined;
  let client: MongoClient | undefined;

  const open = async () => {
    store = await startJavaStore({ log: quiet, dataDir, persistent: true });
    client = await MongoClient.connect(store.uri);
    return client.db('durable').collection<Doc>('states');
  };
  const close = async () => {
    await client?.close(true);
    client = undefined;
    await store?.stop();
    store = undefined;
  };

  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-store-'));
  });
  afterAll(async () => {
    await close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write, and gives space back, when the store process is killed right after the acknowledgement', async () => {
    let states = await open();
    await states.createIndex({ userId: 1 }, { name: 'userId' });
    const ids = Array.from({ length: 600 }, (_, index) => `j:u${index}`);
    await states.insertMany(ids.map((_id, index) => ({ _id, userId: `u${index}`, journeyId: 'j', status: 'active', n: 0 })));
    // Concurrent single writes (each its own command, as the engine's commits are), then more until the file was
    // compacted, then two more: the store is killed in the same turn that the last acknowledgement arrives. MVStore
    // alone keeps up to a second of writes unwritten.
    const updated = await Promise.all(
      ids.map((_id) => states.updateOne({ _id, status: 'active' }, { $inc: { n: 1 }, $set: { status: 'completed' } })),
    );
    // Rounds of updates until a compaction has given space back: the kill below then follows moved chunks.
    const file = join(dataDir, 'journey-store', 'store.mv.db');
    let rounds = 0;
    let largest = 0;
    await eventually(
      async () => {
        for (let first = 0; first < ids.length; first += 50) {
          await states.bulkWrite(
            ids.slice(first, first + 50).map((_id) => ({ updateOne: { filter: { _id }, update: { $inc: { n: 1 } } } })),
            { ordered: false },
          );
        }
        rounds++;
        const bytes = statSync(file).size;
        largest = Math.max(largest, bytes);
        return bytes < largest;
      },
      { timeoutMs: 60_000, what: 'the store file shrinking after a compaction' },
    );
    await states.deleteOne({ _id: ids[0]! });
    await states.insertOne({ _id: 'j:last', userId: 'last', journeyId: 'j', status: 'active', n: 7 });
    const killed = store!.daemon.child.kill('SIGKILL');
    expect({ killed, acknowledged: updated.filter((result) => result.modifiedCount === 1).length }).toEqual({
      killed: true,
      acknowledged: ids.length,
    });
    await close();

    states = await open();
    expect(await states.countDocuments({})).toBe(ids.length);
    expect(await states.countDocuments({ status: 'completed', n: 1 + rounds })).toBe(ids.length - 1);
    expect(await states.findOne({ _id: ids[0]! })).toBeNull();
    // The secondary index is rebuilt from the file when the store opens; the unique _id index is part of the file.
    expect((await states.find({ userId: 'last' }).toArray()).map((doc) => doc.n)).toEqual([7]);
    expect((await states.find({ userId: 'u5' }).toArray()).map((doc) => doc._id)).toEqual(['j:u5']);
    // So is the _id order that serves pages.
    const page = await states
      .find({ _id: { $gt: 'j:u5' } })
      .sort({ _id: 1 })
      .limit(3)
      .toArray();
    expect(page.map((doc) => doc._id)).toEqual(['j:u50', 'j:u500', 'j:u501']);
    const duplicate = await states
      .insertOne({ _id: 'j:last', userId: 'x', journeyId: 'j', status: 'active', n: 0 })
      .catch((error: unknown) => error);
    expect(duplicate instanceof MongoServerError ? duplicate.code : duplicate).toBe(11000);
  }, 120_000);
});

describe('embedded store indexes', () => {
  let store: JavaStore;
  let client: MongoClient;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'journey-store-'));
    store = await startJavaStore({ log: quiet, dataDir, persistent: false });
    client = await MongoClient.connect(store.uri);
  }, 120_000);
  afterAll(async () => {
    await client?.close();
    await store?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await client.db('indexes').dropDatabase();
  });

  it('keeps secondary indexes in step with inserts, updates of the keys and deletes', async () => {
    const states = client.db('indexes').collection<Doc>('states');
    await states.createIndex({ userId: 1 }, { name: 'userId' });
    await states.createIndex({ journeyId: 1, status: 1 }, { name: 'journeyId_status' });
    await states.insertMany(
      Array.from({ length: 300 }, (_, index) => ({
        _id: `d${index}`,
        userId: `u${index % 100}`,
        journeyId: `j${index % 3}`,
        status: 'active',
        n: index,
      })),
    );
    await states.updateMany({ n: { $lt: 30 } }, { $set: { status: 'completed' } });
    await states.updateOne({ _id: 'd1' }, { $set: { userId: 'moved' } });
    await states.deleteMany({ userId: 'u2' });

    const ids = async (filter: Record<string, unknown>) => (await states.find(filter).toArray()).map((doc) => doc._id).sort();
    expect(await ids({ userId: 'u1' })).toEqual(['d101', 'd201']);
    expect(await ids({ userId: 'moved' })).toEqual(['d1']);
    expect(await ids({ userId: 'u2' })).toEqual([]);
    expect(await ids({ userId: { $in: ['u3', 'moved'] } })).toEqual(['d1', 'd103', 'd203', 'd3']);
    expect(await states.countDocuments({ journeyId: 'j0', status: 'completed' })).toBe(10);
    expect(await states.countDocuments({ journeyId: 'j0', status: 'active' })).toBe(89);
    // What each index holds: one key per remaining document (validate reports the library's per-index counts).
    const validated = await client.db('indexes').command({ validate: 'states' });
    expect(validated.keysPerIndex).toEqual({ _id_: 297, userId: 297, journeyId_status: 297 });
  });

  it('finds by _id together with further fields, and by _id $in, as MongoDB does', async () => {
    const states = client.db('indexes').collection<Doc>('states');
    await states.insertMany(
      Array.from({ length: 50 }, (_, index) => ({ _id: `d${index}`, userId: `u${index}`, journeyId: 'j', status: 'active', n: 0 })),
    );
    expect(await states.countDocuments({ _id: 'd3', status: 'active' })).toBe(1);
    expect(await states.countDocuments({ _id: 'd3', status: 'completed' })).toBe(0);
    expect((await states.find({ _id: { $in: ['d1', 'd2', 'nope'] }, n: 0 }).toArray()).map((doc) => doc._id).sort()).toEqual(['d1', 'd2']);
    expect(await states.countDocuments({ _id: { $gte: 'd40', $lt: 'd5' } })).toBe(10);
    // Of concurrent conditional updates that only one can meet, exactly one lands.
    const results = await Promise.all(Array.from({ length: 20 }, () => states.updateOne({ _id: 'd7', n: 0 }, { $inc: { n: 1 } })));
    expect(results.filter((result) => result.modifiedCount === 1)).toHaveLength(1);
    expect((await states.findOne({ _id: 'd7' }))?.n).toBe(1);
  });

  it('pages through a collection in _id order after inserts, deletes and updates, as MongoDB does', async () => {
    const states = client.db('indexes').collection<Doc>('states');
    await states.createIndex({ userId: 1 }, { name: 'userId' });
    // Inserted out of order, in several commands; the string order of the ids is not their numeric order.
    const numbers = Array.from({ length: 600 }, (_, index) => (index * 7919) % 600);
    for (let first = 0; first < numbers.length; first += 100) {
      await states.insertMany(
        numbers.slice(first, first + 100).map((n) => ({ _id: `u${n}`, userId: `user${n}`, journeyId: 'j', status: 'active', n })),
      );
    }
    await states.deleteMany({ n: { $mod: [5, 0] } });
    await states.updateMany({ n: { $mod: [3, 0] } }, { $set: { status: 'completed' } });
    await states.insertMany([{ _id: 'u5', userId: 'back', journeyId: 'j', status: 'active', n: 5 }]);
    const active = numbers
      .filter((n) => n % 3 !== 0 && (n % 5 !== 0 || n === 5))
      .map((n) => `u${n}`)
      .sort();

    const walk = async (direction: 1 | -1, size: number) => {
      const seen: string[] = [];
      for (;;) {
        const last = seen.at(-1);
        const bound = last === undefined ? {} : { _id: direction === 1 ? { $gt: last } : { $lt: last } };
        const page = await states
          .find({ ...bound, status: 'active' })
          .sort({ _id: direction })
          .limit(size)
          .toArray();
        seen.push(...page.map((doc) => doc._id));
        if (page.length < size) return seen;
      }
    };
    expect(await walk(1, 37)).toEqual(active);
    expect(await walk(-1, 50)).toEqual([...active].reverse());
    // Both bounds, a skip, a projection, and a batch smaller than the limit (the rest through getMore).
    const middle = active.filter((id) => id >= 'u2' && id < 'u4');
    const projected = await states
      .find({ _id: { $gte: 'u2', $lt: 'u4' }, status: 'active' }, { projection: { n: 1 } })
      .sort({ _id: 1 })
      .skip(3)
      .limit(40)
      .batchSize(7)
      .toArray();
    expect(projected).toEqual(middle.slice(3, 43).map((_id) => ({ _id, n: Number(_id.slice(1)) })));
    // Crossed bounds find nothing; a bound of another type matches only ids of its type.
    expect(
      await states
        .find({ _id: { $gt: 'u9', $lt: 'u1' } })
        .sort({ _id: 1 })
        .limit(5)
        .toArray(),
    ).toEqual([]);
    const mixed = client.db('indexes').collection<Omit<Doc, '_id'> & { _id: string | number }>('states');
    await mixed.insertOne({ _id: 7, userId: 'number', journeyId: 'j', status: 'active', n: 7 });
    expect(
      (
        await mixed
          .find({ _id: { $gt: 0 } })
          .sort({ _id: 1 })
          .limit(5)
          .toArray()
      ).map((doc) => doc.userId),
    ).toEqual(['number']);
    expect(
      (
        await states
          .find({ _id: { $lte: 'u1' } })
          .sort({ _id: 1 })
          .limit(5)
          .toArray()
      ).map((doc) => doc._id),
    ).toEqual(['u1']);
    // A filter an index serves is still looked up through it, sorted by _id.
    expect((await states.find({ userId: 'back' }).sort({ _id: 1 }).limit(5).toArray()).map((doc) => doc._id)).toEqual(['u5']);
  });
});
