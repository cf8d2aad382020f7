import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMongo, createSendsRepository, type BeginSend, type MongoStore, type SendsRepository } from '../src/index.js';

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
function message(over: Partial<BeginSend> = {}): BeginSend {
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
    now: t0,
    ...over,
  };
}

describe('sends repository', () => {
  it('begins a message once; a second begin finds the first record', async () => {
    const m = message();
    const first = await sends.begin(m);
    expect(first.created).toBe(true);
    expect(first.send).toEqual({
      messageId: m.messageId,
      journeyId: 'j1',
      version: 2,
      stepId: 'welcome',
      branchId: '1',
      userId: 'u1',
      entryId: 'e1',
      messageType: 'onboarding',
      url: 'http://127.0.0.1:9999/hook',
      status: 'pending',
      reason: null,
      attempts: [],
      createdAt: t0,
      completedAt: null,
    });
    const again = await sends.begin({ ...m, now: at(5) });
    expect(again.created).toBe(false);
    expect(again.send).toEqual(first.send);
    expect(await sends.get(m.messageId)).toEqual(first.send);
    expect(await sends.get('nope')).toBeNull();
  });

  it('lets concurrent begins of one message create it exactly once', async () => {
    const m = message();
    const results = await Promise.all(Array.from({ length: 8 }, () => sends.begin(m)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(await store.db.collection('sends').countDocuments({ _id: m.messageId } as never)).toBe(1);
  });

  it('records attempts in order and completes with the last one', async () => {
    const m = message({ branchId: null });
    await sends.begin(m);
    await sends.recordAttempt(m.messageId, { at: at(1), durationMs: 12, outcome: 'http_error', status: 503, error: 'busy' });
    await sends.recordAttempt(m.messageId, { at: at(2), durationMs: 200, outcome: 'timeout' });
    expect(await sends.complete(m.messageId, { status: 'sent', now: at(3), attempt: { at: at(3), durationMs: 4, outcome: 'ok', status: 200 } })).toBe(true);
    const send = await sends.get(m.messageId);
    expect(send).toMatchObject({ status: 'sent', reason: null, completedAt: at(3), branchId: null });
    expect(send?.attempts).toEqual([
      { at: at(1), durationMs: 12, outcome: 'http_error', status: 503, error: 'busy' },
      { at: at(2), durationMs: 200, outcome: 'timeout', status: undefined, error: undefined },
      { at: at(3), durationMs: 4, outcome: 'ok', status: 200, error: undefined },
    ]);
  });

  it('keeps a failure reason, and never lets a failure overwrite a sent record', async () => {
    const failed = message();
    await sends.begin(failed);
    expect(await sends.complete(failed.messageId, { status: 'failed', reason: 'http_4xx', now: at(1), attempt: { at: at(1), durationMs: 3, outcome: 'http_error', status: 400 } })).toBe(true);
    expect(await sends.get(failed.messageId)).toMatchObject({ status: 'failed', reason: 'http_4xx', completedAt: at(1) });

    const sent = message();
    await sends.begin(sent);
    expect(await sends.complete(sent.messageId, { status: 'sent', now: at(1) })).toBe(true);
    expect(await sends.complete(sent.messageId, { status: 'failed', reason: 'retries_exhausted', now: at(2) })).toBe(false);
    expect(await sends.complete(sent.messageId, { status: 'sent', now: at(3) })).toBe(false);
    expect(await sends.get(sent.messageId)).toMatchObject({ status: 'sent', reason: null, completedAt: at(1) });

    // A delivery that a racing try reported as failed still ends as sent: the message did go out.
    expect(await sends.complete(failed.messageId, { status: 'sent', now: at(4) })).toBe(true);
    expect(await sends.get(failed.messageId)).toMatchObject({ status: 'sent', reason: null, completedAt: at(4) });
  });

  it('records skipped messages with their reason', async () => {
    const m = message();
    await sends.begin(m);
    expect(await sends.complete(m.messageId, { status: 'skipped', reason: 'muted', now: t0 })).toBe(true);
    expect(await sends.get(m.messageId)).toMatchObject({ status: 'skipped', reason: 'muted', attempts: [] });
  });

  it('lists the messages sent to a user after a time, oldest first', async () => {
    const userId = uniqueName('capped');
    const complete = async (over: Partial<BeginSend>, completion: 'sent' | 'failed' | 'skipped' | null, when: Date) => {
      const m = message({ userId, ...over });
      await sends.begin(m);
      if (completion === 'sent') await sends.complete(m.messageId, { status: 'sent', now: when });
      else if (completion) await sends.complete(m.messageId, { status: completion, reason: 'http_4xx', now: when });
      return m.messageId;
    };
    await complete({}, 'sent', at(-100)); // before the window
    const edge = await complete({}, 'sent', at(0)); // exactly at `since`: not after it
    const late = await complete({ journeyId: 'j2' }, 'sent', at(30));
    const early = await complete({}, 'sent', at(10));
    await complete({}, 'failed', at(20));
    await complete({}, 'skipped', at(20));
    await complete({}, null, at(20));
    await complete({ userId: `${userId}-other` }, 'sent', at(20));

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
