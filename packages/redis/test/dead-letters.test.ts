import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDeadLetters } from '../src/dead-letters.js';
import { createJourneysRevision } from '../src/journeys-revision.js';
import { closeAll, connect, freshKeys, keysOf } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const at = Date.parse('2026-12-06T12:00:00Z');
const failed = (streamId: string, error = 'boom') => ({ streamId, record: `{"id":"${streamId}"}`, error, at });

describe('dead letters', () => {
  it("counts a record's failures and moves it to its partition's dead letters at the limit", async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const letters = createDeadLetters(redis, keys, { limit: 3 });
    expect(await letters.noteFailure(2, failed('1-0'))).toEqual({ status: 'retry', failures: 1 });
    expect(await letters.noteFailure(2, failed('1-0'))).toEqual({ status: 'retry', failures: 2 });
    expect(await letters.noteFailure(2, failed('2-0'))).toEqual({ status: 'retry', failures: 1 });
    expect(await letters.noteFailure(2, failed('1-0', 'last'))).toEqual({ status: 'dead' });

    expect(await letters.counts()).toEqual([0, 0, 1, 0]);
    expect(await letters.recent()).toEqual([{ partition: 2, streamId: '1-0', record: '{"id":"1-0"}', error: 'last', failures: 3, at }]);
    // The dead letter's count is gone; the other record's is kept (and expires with the hash).
    expect(await redis.hgetall(keys.eventFailures(2))).toEqual({ '2-0': '1' });
    expect(await redis.pttl(keys.eventFailures(2))).toBeGreaterThan(0);
  });

  it('keeps at most `kept` dead letters per partition, newest first across partitions', async () => {
    const keys = freshKeys({ eventPartitions: 2 });
    const letters = createDeadLetters(redis, keys, { limit: 1, kept: 2 });
    for (let index = 0; index < 250; index++) await letters.noteFailure(index % 2, { ...failed(`${index}-0`), at: at + index });
    const counts = await letters.counts();
    // MAXLEN ~ trims whole nodes: a little over `kept`, never the 125 noted per partition.
    expect(counts.every((count) => count >= 2 && count < 125)).toBe(true);
    const recent = await letters.recent(3);
    expect(recent.map((letter) => letter.streamId)).toEqual(['249-0', '248-0', '247-0']);
    expect(await keysOf(redis, keys)).toEqual([keys.deadLetters(0), keys.deadLetters(1)].sort());
  });

  it('refuses a stream id that is not one', async () => {
    await expect(createDeadLetters(redis, freshKeys()).noteFailure(0, failed('nope'))).rejects.toThrow(/stream id/);
  });
});

describe('journeys revision', () => {
  it('starts at 0 and moves with every bump', async () => {
    const revision = createJourneysRevision(redis, freshKeys());
    expect(await revision.current()).toBe(0);
    expect(await revision.bump()).toBe(1);
    expect(await revision.bump()).toBe(2);
    expect(await revision.current()).toBe(2);
  });
});
