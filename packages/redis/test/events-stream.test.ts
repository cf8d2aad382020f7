import { eventually } from '@journey/embedded/testing';
import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadScriptArgumentsError, InvalidInputError } from '../src/errors.js';
import { createEventsStream, type AcceptInput } from '../src/events-stream.js';
import { runScript } from '../src/scripts.js';
import { closeAll, connect, freshKeys, keysOf } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

let generated = 0;
/** An event record; with `id` it is the client's (de-duplicated), without one the engine assigns one. */
const event = (userId: string, name: string, id?: string): AcceptInput => ({
  record: {
    type: 'event',
    id: id ?? `gen-${++generated}`,
    userId,
    name,
    time: 1_700_000_000_000,
    properties: { item: 'book', price: 12.5, tags: ['a'], nested: { ok: true, none: null } },
  },
  deduplicate: id !== undefined,
});
const records = (inputs: AcceptInput[]) => inputs.map((input) => input.record);
type EventRecord = { name: string; userId: string };

async function readAll(stream: ReturnType<typeof createEventsStream>, partition: number) {
  const entries = await stream.read(partition, { count: 10_000 });
  return entries.map((entry) => (entry.ok ? entry.record : entry));
}

describe('events stream: accept', () => {
  it('appends new events in order and reads them back validated', async () => {
    const keys = freshKeys();
    const stream = createEventsStream(redis, keys);
    const events = [event('u1', 'signed_up', 'e1'), event('u1', 'purchased'), event('u1', 'viewed', 'e2')];
    const results = await stream.accept(events);
    const partition = keys.eventPartitionOf('u1');
    expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(results.every((result) => result.partition === partition)).toBe(true);
    expect(await readAll(stream, partition)).toEqual(records(events));
    const ids = results.map((result) => (result.status === 'accepted' ? result.streamId : ''));
    expect([...ids].sort((a, b) => compareIds(a, b))).toEqual(ids);
  });

  it('answers duplicates within one call and across calls, without adding them', async () => {
    const keys = freshKeys();
    const stream = createEventsStream(redis, keys);
    const first = await stream.accept([event('u1', 'a', 'x'), event('u1', 'a-again', 'x'), event('u1', 'b', 'y'), event('u1', 'c', 'x')]);
    expect(first.map((result) => result.status)).toEqual(['accepted', 'duplicate', 'accepted', 'duplicate']);
    const second = await stream.accept([event('u1', 'b-again', 'y'), event('u1', 'd', 'z')]);
    expect(second.map((result) => result.status)).toEqual(['duplicate', 'accepted']);
    expect((await readAll(stream, keys.eventPartitionOf('u1'))).map((each) => (each as EventRecord).name)).toEqual(['a', 'b', 'd']);
  });

  it('never de-duplicates events without an id, and scopes ids by user', async () => {
    const keys = freshKeys({ eventPartitions: 1 });
    const stream = createEventsStream(redis, keys);
    const results = await stream.accept([event('u1', 'a'), event('u1', 'a'), event('u1', 'x', 'same'), event('u2', 'x', 'same')]);
    expect(results.map((result) => result.status)).toEqual(['accepted', 'accepted', 'accepted', 'accepted']);
    expect(await redis.xlen(keys.eventStream(0))).toBe(4);
  });

  it('keeps each de-duplication key for the window only', async () => {
    const keys = freshKeys();
    const stream = createEventsStream(redis, keys);
    const partition = keys.eventPartitionOf('u1');
    await stream.accept([event('u1', 'a', 'day')]);
    const ttl = await redis.ttl(keys.eventDedup(partition, 'u1', 'day'));
    expect(ttl).toBeGreaterThan(86_400 - 5);
    expect(ttl).toBeLessThanOrEqual(86_400);

    const [accepted] = await stream.accept([event('u1', 'b', 'short')], { dedupWindowSeconds: 1 });
    expect(await redis.get(keys.eventDedup(partition, 'u1', 'short'))).toBe(
      accepted?.status === 'accepted' ? accepted.streamId : 'missing',
    );
    expect(await redis.pttl(keys.eventDedup(partition, 'u1', 'short'))).toBeGreaterThan(0);
    // Once the window is over, the same id is a new event again (polled: the key expires on Redis' clock).
    await eventually(async () => (await stream.accept([event('u1', 'b2', 'short')], { dedupWindowSeconds: 1 }))[0]?.status === 'accepted', {
      what: 'dedup key expiry',
      timeoutMs: 5_000,
    });
    expect((await readAll(stream, partition)).map((each) => (each as EventRecord).name)).toEqual(['a', 'b', 'b2']);
  });

  it('groups a batch by partition and answers in input order', async () => {
    const keys = freshKeys({ eventPartitions: 4 });
    const stream = createEventsStream(redis, keys);
    const events = Array.from({ length: 200 }, (_, index) =>
      event(`user-${index % 37}`, `n${index}`, index % 50 === 0 ? 'dup' : `id${index}`),
    );
    const results = await stream.accept(events);
    events.forEach((each, index) => expect(results[index]?.partition).toBe(keys.eventPartitionOf(each.record.userId)));
    // Per user, the stream holds that user's events in the order they were sent.
    for (let partition = 0; partition < 4; partition++) {
      const stored = (await readAll(stream, partition)) as EventRecord[];
      for (const user of new Set(stored.map((each) => each.userId))) {
        const sent = records(events.filter((each, index) => each.record.userId === user && results[index]?.status === 'accepted'));
        expect(stored.filter((each) => each.userId === user)).toEqual(sent);
      }
    }
    const lengths = await stream.lengths();
    expect(lengths).toHaveLength(4);
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(results.filter((result) => result.status === 'accepted').length);
  });

  it('never trims unprocessed events', async () => {
    const keys = freshKeys({ eventPartitions: 1 });
    const stream = createEventsStream(redis, keys);
    for (let round = 0; round < 3; round++) {
      await stream.accept(Array.from({ length: 1000 }, (_, index) => event('u', `n${index}`)));
    }
    expect(await redis.xlen(keys.eventStream(0))).toBe(3000);
  });

  it('rejects the whole call when one event cannot be stored', async () => {
    const keys = freshKeys();
    const stream = createEventsStream(redis, keys);
    await expect(stream.accept([event('ok', 'a', 'k'), event('bad|user', 'a')])).rejects.toThrow(InvalidInputError);
    await expect(stream.accept([event('ok', 'a')], { dedupWindowSeconds: 0 })).rejects.toThrow(InvalidInputError);
    expect(await keysOf(redis, keys)).toEqual([]);
  });

  it('the script refuses malformed arguments and writes nothing', async () => {
    const keys = freshKeys();
    const stream = keys.eventStream(0);
    const dedup = keys.eventDedup(0, 'u', 'e');
    const refused = [
      [[stream], ['0', '1', '0', '{}']],
      [[stream], ['60', '2', '0', '{}']],
      [[stream], ['60', '1', '1', '{}']],
      [
        [stream, dedup],
        ['60', '1', '-1', '{}'],
      ],
      [
        [stream, dedup],
        ['sixty', '1', '1', '{}'],
      ],
    ] as const;
    for (const [scriptKeys, args] of refused) {
      await expect(runScript(redis, 'acceptEvents', scriptKeys, args)).rejects.toSatisfy(
        (error) => error instanceof BadScriptArgumentsError && error.code === 'BAD_ARGUMENTS' && error.unrecoverable,
      );
    }
    expect(await keysOf(redis, keys)).toEqual([]);
  });
});

describe('events stream: read and acknowledge', () => {
  it('reads after a stream id and trims exactly up to the acknowledged id', async () => {
    const keys = freshKeys({ eventPartitions: 1 });
    const stream = createEventsStream(redis, keys);
    const results = await stream.accept(Array.from({ length: 10 }, (_, index) => event('u', `n${index}`)));
    const ids = results.map((result) => (result.status === 'accepted' ? result.streamId : ''));

    const page = await stream.read(0, { after: ids[3]!, count: 4 });
    expect(page.map((entry) => entry.streamId)).toEqual(ids.slice(4, 8));

    expect(await stream.acknowledge(0, ids[5]!)).toBe(6);
    expect((await stream.read(0)).map((entry) => entry.streamId)).toEqual(ids.slice(6));
    expect(await stream.acknowledge(0, ids[5]!)).toBe(0);
    await expect(stream.acknowledge(0, 'nope')).rejects.toThrow(InvalidInputError);
  });

  it('reports unreadable entries as values instead of throwing', async () => {
    const keys = freshKeys({ eventPartitions: 1 });
    const stream = createEventsStream(redis, keys);
    await redis.xadd(keys.eventStream(0), '*', 'e', 'not json');
    await redis.xadd(keys.eventStream(0), '*', 'e', JSON.stringify({ type: 'event', id: 'x', userId: 'u', name: 'x', properties: {} }));
    await redis.xadd(keys.eventStream(0), '*', 'other', '1');
    await stream.accept([event('u', 'fine')]);
    const entries = await stream.read(0);
    expect(entries.map((entry) => entry.ok)).toEqual([false, false, false, true]);
    expect(entries[0]).toMatchObject({ ok: false, error: 'field "e" is not JSON' });
    expect(entries[1]).toMatchObject({ ok: false, error: expect.stringContaining('time') });
  });
});

function compareIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bms, bseq] = b.split('-').map(BigInt) as [bigint, bigint];
  return ams === bms ? Number(aseq - bseq) : ams < bms ? -1 : 1;
}
