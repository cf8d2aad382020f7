import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createSendsRepository, type MongoStore, type SendRecord, type SendsRepository } from '../src/index.js';

let store: MongoStore;
let sends: SendsRepository;
beforeAll(async () => {
  store = await connectMongo(testServers().mongoUri, uniqueName('sends'));
  sends = createSendsRepository(store.db);
  await sends.ensureIndexes();
});
afterAll(async () => {
  await store.db.dropDatabase();
  await store.close();
});

const t0 = new Date('2026-11-22T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

let counter = 0;
function record(over: Partial<SendRecord> = {}): SendRecord {
  counter += 1;
  return {
    messageId: `m${counter}`,
    journeyId: 'j1',
    version: 2,
    stepId: 'welcome',
    branchId: '1',
    userId: 'u1',
    entryId: 'e1',
    messageType: 'onboarding',
    url: 'http://127.0.0.1:9999/hook',
    status: 'sent',
    reason: null,
    attempts: [{ at: t0, durationMs: 4, outcome: 'ok', status: 200 }],
    createdAt: t0,
    completedAt: at(1),
    ...over,
  };
}

describe('sends repository', () => {
  it('records a batch of messages in one insert and reads each back', async () => {
    const sent = record({ branchId: null });
    const failed = record({
      status: 'failed',
      reason: 'retries_exhausted',
      attempts: [
        { at: at(1), durationMs: 12, outcome: 'http_error', status: 503, error: 'busy' },
        { at: at(2), durationMs: 200, outcome: 'timeout' },
      ],
    });
    const skipped = record({ status: 'skipped', reason: 'muted', attempts: [] });
    expect(await sends.recordMany([sent, failed, skipped])).toEqual([]);

    expect(await sends.get(sent.messageId)).toEqual({ ...sent, attempts: [{ at: t0, durationMs: 4, outcome: 'ok', status: 200, error: undefined }] });
    expect(await sends.get(failed.messageId)).toMatchObject({ status: 'failed', reason: 'retries_exhausted', completedAt: at(1) });
    expect((await sends.get(failed.messageId))?.attempts).toEqual([
      { at: at(1), durationMs: 12, outcome: 'http_error', status: 503, error: 'busy' },
      { at: at(2), durationMs: 200, outcome: 'timeout', status: undefined, error: undefined },
    ]);
    expect(await sends.get(skipped.messageId)).toMatchObject({ status: 'skipped', reason: 'muted', attempts: [] });
    expect(await sends.get('nope')).toBeNull();
    expect((await sends.getMany([skipped.messageId, 'nope', sent.messageId])).map((send) => send.messageId).sort()).toEqual([sent.messageId, skipped.messageId].sort());
    expect(await sends.getMany([])).toEqual([]);
    expect(await sends.recordMany([])).toEqual([]);
  });

  it('keeps the record of a racing try, except that a delivery wins over a failure', async () => {
    const first = record();
    const failedFirst = record({ status: 'failed', reason: 'http_4xx' });
    expect(await sends.recordMany([first, failedFirst])).toEqual([]);

    const fresh = record();
    const again = await sends.recordMany([
      { ...first, status: 'failed', reason: 'retries_exhausted', completedAt: at(5) },
      { ...failedFirst, status: 'sent', reason: null, completedAt: at(6) },
      fresh,
    ]);
    expect(again.sort()).toEqual([first.messageId, failedFirst.messageId].sort());
    expect(await sends.get(first.messageId)).toMatchObject({ status: 'sent', reason: null, completedAt: at(1) });
    expect(await sends.get(failedFirst.messageId)).toMatchObject({ status: 'sent', reason: null, completedAt: at(6) });
    expect(await sends.get(fresh.messageId)).toMatchObject({ status: 'sent' });
  });

  it('lets concurrent records of one message store it exactly once', async () => {
    const m = record();
    const results = await Promise.all(Array.from({ length: 8 }, () => sends.recordMany([m])));
    expect(results.filter((existing) => existing.length === 0)).toHaveLength(1);
    expect(results.flat()).toEqual(Array.from({ length: 7 }, () => m.messageId));
    expect(await store.db.collection('sends').countDocuments({ _id: m.messageId } as never)).toBe(1);
  });

  it('lists the messages sent to a user after a time, oldest first', async () => {
    const userId = uniqueName('capped');
    const recorded = async (over: Partial<SendRecord>, when: Date) => {
      const m = record({ userId, completedAt: when, ...over });
      await sends.recordMany([m]);
      return m.messageId;
    };
    await recorded({}, at(-100)); // before the window
    const edge = await recorded({}, at(0)); // exactly at `since`: not after it
    const late = await recorded({ journeyId: 'j2' }, at(30));
    const early = await recorded({}, at(10));
    await recorded({ status: 'failed', reason: 'http_4xx' }, at(20));
    await recorded({ status: 'skipped', reason: 'frequency_cap' }, at(20));
    await recorded({ userId: `${userId}-other` }, at(20));

    const recent = await sends.recentSendsForUser(userId, t0);
    expect(recent.map((s) => s.messageId)).toEqual([early, late]);
    expect(recent.map((s) => s.completedAt)).toEqual([at(10), at(30)]);
    expect((await sends.recentSendsForUser(userId, at(-1))).map((s) => s.messageId)).toEqual([edge, early, late]);
  });

  it('creates the frequency-cap index', async () => {
    const indexes = await store.db.collection('sends').indexes();
    expect(indexes.find((index) => index.name === 'userId_completedAt')?.key).toEqual({ userId: 1, completedAt: 1 });
  });

  it('refuses a stored document that does not match the schema', async () => {
    await store.db.collection('sends').insertOne({ _id: 'broken', status: 'lost' } as never);
    await expect(sends.get('broken')).rejects.toThrow();
  });
});
