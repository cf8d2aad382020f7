import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { createSendHistory } from '../src/send-history.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

const t0 = Date.parse('2026-12-04T12:00:00Z');
const minute = 60_000;

describe('send history', () => {
  it('counts each message once, per user, after the given time', async () => {
    const history = createSendHistory(redis, freshKeys(), { keepMs: 60 * minute });
    expect(await history.note('u1', 'j1.u1.e1.welcome', t0)).toBe(true);
    expect(await history.note('u1', 'j1.u1.e1.welcome', t0 + minute)).toBe(false);
    expect(await history.note('u1', 'j2.u1.e7.promo', t0 + 2 * minute)).toBe(true);
    expect(await history.note('u2', 'j1.u2.e1.welcome', t0)).toBe(true);

    // The retried send kept its first time.
    expect(await history.sentSince('u1', t0 - 1)).toEqual([t0, t0 + 2 * minute]);
    // A send exactly at `since` is outside the window, as frequencyCapWindowStart means it.
    expect(await history.sentSince('u1', t0)).toEqual([t0 + 2 * minute]);
    expect(await history.sentSince('u2', t0 - 1)).toEqual([t0]);
    expect(await history.sentSince('nobody', 0)).toEqual([]);
  });

  it("notes a batch's answers together: sends in the users' histories, refusals on their own", async () => {
    const keys = freshKeys();
    const history = createSendHistory(redis, keys, { keepMs: 60 * minute });
    const users = Array.from({ length: 50 }, (_, index) => `batch-${index}`);
    const noted = await history.noteMany(
      users.map((userId, index) =>
        index % 3 === 0
          ? { status: 'refused' as const, userId, messageId: `m-${index}`, reason: 'http_4xx' }
          : { status: 'sent' as const, userId, messageId: `m-${index}`, at: t0 + index },
      ),
    );
    expect(noted).toEqual(users.map(() => true));
    for (const [index, userId] of users.entries()) {
      expect(await history.recall(userId, `m-${index}`)).toEqual(
        index % 3 === 0 ? { status: 'refused', reason: 'http_4xx' } : { status: 'sent', at: t0 + index },
      );
    }
    expect(await history.noteMany([{ status: 'sent', userId: users[1]!, messageId: 'm-1', at: t0 + 99 }])).toEqual([false]);
    expect(await history.recall(users[1]!, 'm-1')).toEqual({ status: 'sent', at: t0 + 1 });
  });

  it('forgets sends older than it keeps, and a bucket outlives its newest send by what it keeps', async () => {
    const keys = freshKeys();
    const history = createSendHistory(redis, keys, { keepMs: 10 * minute });
    await history.note('u1', 'old', t0);
    await history.note('u1', 'new', t0 + 11 * minute);
    expect(await history.sentSince('u1', 0)).toEqual([t0 + 11 * minute]);
    // The expiry is re-armed by each sweep (the bucket's first note, then once a day): what it keeps plus a day.
    const ttl = await redis.pttl(keys.sendHistory('u1'));
    expect(ttl).toBeGreaterThan(10 * minute + 24 * 60 * minute - minute);
    expect(ttl).toBeLessThanOrEqual(10 * minute + 24 * 60 * minute);
  });

  it('keeps users who share a bucket apart, and sweeps out those whose sends all aged out', async () => {
    // One bucket in one due shard: every user shares it.
    const keys = freshKeys({ sendHistoryBuckets: 1, dueShards: 1 });
    const history = createSendHistory(redis, keys, { keepMs: 10 * minute });
    const day = 24 * 60 * minute;
    await history.note('quiet', 'q1', t0);
    await history.note('busy', 'b1', t0 + minute);
    await history.note('busy', 'b2', t0 + 2 * minute);
    expect(await history.sentSince('quiet', 0)).toEqual([t0]);
    expect(await history.sentSince('busy', 0)).toEqual([t0 + minute, t0 + 2 * minute]);
    // Both users and the bucket's sweep time.
    expect(await redis.hlen(keys.sendHistory('busy'))).toBe(3);

    // Within a day of the first sweep, a note trims only its own user: "quiet" still has its (aged-out) field.
    await history.note('busy', 'b3', t0 + 60 * minute);
    expect(await redis.hlen(keys.sendHistory('busy'))).toBe(3);
    expect(await history.sentSince('busy', 0)).toEqual([t0 + 60 * minute]);
    // A day later a note sweeps the bucket: "quiet" is gone.
    await history.note('busy', 'b4', t0 + day);
    expect(await redis.hlen(keys.sendHistory('busy'))).toBe(2);
    expect(await history.sentSince('quiet', 0)).toEqual([]);
    expect(await history.sentSince('busy', 0)).toEqual([t0 + day]);
  });

  it('costs a messaged user a few dozen bytes of Redis, not a key', async () => {
    const keys = freshKeys({ sendHistoryBuckets: 256 });
    const history = createSendHistory(redis, keys, { keepMs: 60 * minute });
    const users = Array.from({ length: 5_000 }, (_, index) => `user-${index}`);
    await Promise.all(users.map((userId) => history.note(userId, `j1.${userId}.e1.welcome`, t0)));
    const buckets = new Set(users.map((userId) => keys.sendHistory(userId)));
    let bytes = 0;
    for (const bucket of buckets) bytes += Number(await redis.memory('USAGE', bucket, 'SAMPLES', '0'));
    // ~20 users per bucket: each field is 8 + 12 bytes of data in a listpack (the per-user key it replaced was ~180).
    expect(bytes / users.length).toBeLessThan(40);
    for (const userId of users.slice(0, 50)) expect(await history.sentSince(userId, 0)).toEqual([t0]);
  });

  it('refuses what it could not store', async () => {
    const keys = freshKeys();
    const history = createSendHistory(redis, keys, { keepMs: 60 * minute });
    await expect(history.note('u1', '', t0)).rejects.toThrow(InvalidInputError);
    await expect(history.note('u1', 'm1', -1)).rejects.toThrow(InvalidInputError);
    await expect(history.note('u|1', 'm1', t0)).rejects.toThrow(InvalidInputError);
    await expect(history.sentSince('u1', 1.5)).rejects.toThrow(InvalidInputError);
    expect(() => createSendHistory(redis, keys, { keepMs: 0 })).toThrow(InvalidInputError);
    expect(await redis.exists(keys.sendHistory('u1'))).toBe(0);
  });
});
