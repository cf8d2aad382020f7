import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { crc16, hashTagOf, keySlot } from '../src/key-slot.js';
import { createKeys, fnv1a32, type BatchRef, type DueSetRef } from '../src/keys.js';
import { decodeDueMember, encodeDueMember } from '../src/members.js';
import { loadScript, SCRIPT_FILES, type ScriptName } from '../src/scripts.js';

const keys = createKeys('jrn');
const branch = { journeyId: 'j_1', version: 3, stepId: 'welcome' };
const due: DueSetRef = { shard: 5, branch, dueSecond: 1_700_000_000 };
const batch: BatchRef = { ...due, nonce: 'a1b2c3d4e5f6' };

describe('keys', () => {
  it('builds the layout of docs/architecture.md', () => {
    expect(keys.eventStream(7)).toBe('{jrn:ev:7}:stream');
    expect(keys.eventDedup(7, 'user-1', 'evt-9')).toBe('{jrn:ev:7}:dedup:user-1|evt-9');
    expect(keys.dueSet(due)).toBe('{jrn:due:5}:j_1:3:welcome:1700000000');
    expect(keys.dueIndex(5)).toBe('{jrn:due:5}:index');
    expect(keys.batch(batch)).toBe('{jrn:due:5}:batch:j_1.3.welcome.1700000000.a1b2c3d4e5f6');
    expect(keys.batches(5)).toBe('{jrn:due:5}:batches');
    expect(keys.dueWaiting(5)).toBe('{jrn:due:5}:waiting');
    expect(keys.opsActivity(1_700_000_000)).toBe('jrn:ops:activity:1700000000');
    expect(keys.opsFailures()).toBe('jrn:ops:failures');
    const shardOf = (userId: string) => fnv1a32(userId) % 16;
    expect(keys.branchLock('j_1', 'user:1', 'e-1')).toBe(`{jrn:due:${shardOf('user:1')}}:lock:j_1:user:1:e-1`);
    expect(keys.sendHistory('user-1')).toBe(`{jrn:due:${shardOf('user-1')}}:sends:${fnv1a32('user-1') % 65_536}`);
    expect(createKeys('jrn', { sendHistoryBuckets: 1, dueShards: 1 }).sendHistory('anyone')).toBe('{jrn:due:0}:sends:0');
    expect(keys.stats('j_1', 3)).toBe('{jrn:stats:j_1:3}');
    expect(keys.statsBucket('j_1', 3, 'h', 1_796_526_000)).toBe('{jrn:stats:j_1:3}:h:1796526000');
    expect(keys.eventFailures(7)).toBe('{jrn:ev:7}:failures');
    expect(keys.deadLetters(7)).toBe('{jrn:ev:7}:dead');
    expect(keys.refusedMessage('user-1', '0a1b-2c')).toBe(`{jrn:due:${shardOf('user-1')}}:refused:0a1b-2c`);
    expect(keys.journeysRevision()).toBe('jrn:journeys:revision');
    expect(keys.carverLease(5)).toBe('{jrn:carve}:shard:5');
    expect(keys.carvers()).toBe('{jrn:carve}:alive');
    expect(keys.sweeperLease()).toBe('jrn:sweeper');
  });

  it('keys touched by one script share their hash tag and cluster slot', () => {
    const sameShardUsers = Array.from({ length: 200 }, (_, index) => `user-${index}`).filter(
      (user) => keys.dueShardOf(user) === keys.dueShardOf('u'),
    );
    expect(sameShardUsers.length).toBeGreaterThan(3);
    const groups: Record<ScriptName, string[]> = {
      acceptEvents: [keys.eventStream(3), keys.eventDedup(3, 'u1', 'a'), keys.eventDedup(3, 'u{x}2', 'b')],
      scheduleDue: [keys.dueSet(due), keys.dueIndex(due.shard), keys.dueWaiting(due.shard)],
      carveBatch: [keys.dueSet(due), keys.dueIndex(due.shard), keys.batch(batch), keys.batches(due.shard), keys.dueWaiting(due.shard)],
      finishBatch: [keys.batch(batch), keys.batches(batch.shard)],
      // A batch's members are users of its due shard: their locks, send histories and refusals share its tag.
      takeBranchLocks: [keys.branchLock('j', 'u', 'e'), ...sameShardUsers.map((user) => keys.branchLock('j', user, 'e'))],
      settleBranchLocks: [keys.branchLock('j', 'u', 'e'), ...sameShardUsers.map((user) => keys.branchLock('k', user, 'f'))],
      noteSends: [keys.sendHistory('u'), ...sameShardUsers.flatMap((user) => [keys.sendHistory(user), keys.refusedMessage(user, 'm-1')])],
      noteRecordFailure: [keys.eventFailures(3), keys.deadLetters(3)],
      claimLeases: [keys.carverLease(0), keys.carverLease(3), keys.carverLease(15)],
      heartbeat: [keys.carvers()],
    };
    for (const [script, group] of Object.entries(groups)) {
      expect(new Set(group.map(hashTagOf)).size, script).toBe(1);
      expect(new Set(group.map(keySlot)).size, script).toBe(1);
    }
    // Different partitions and shards are spread over the cluster, not piled into one slot.
    const slots = new Set(Array.from({ length: 16 }, (_, shard) => keySlot(keys.dueIndex(shard))));
    expect(slots.size).toBe(16);
  });

  it('computes cluster slots like Redis (CLUSTER KEYSLOT)', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(hashTagOf('a{}b')).toBe('a{}b');
    expect(hashTagOf('x{tag}y{other}')).toBe('tag');
  });

  it('hashes users to partitions and shards stably (FNV-1a)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(keys.eventPartitionOf('user-42')).toBe(fnv1a32('user-42') % 16);
    const eight = createKeys('jrn', { eventPartitions: 8, dueShards: 4 });
    const partitions = new Set<number>();
    const shards = new Set<number>();
    for (let index = 0; index < 500; index++) {
      partitions.add(eight.eventPartitionOf(`u${index}`));
      shards.add(eight.dueShardOf(`u${index}`));
    }
    expect([...partitions].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...shards].sort()).toEqual([0, 1, 2, 3]);
    expect(() => eight.eventStream(8)).toThrow(InvalidInputError);
    expect(() => eight.dueIndex(-1)).toThrow(InvalidInputError);
  });

  it('parses due-set and batch keys back, and nothing else', () => {
    expect(keys.parseDueSet(keys.dueSet(due))).toEqual(due);
    expect(keys.parseBatch(keys.batch(batch))).toEqual(batch);
    expect(keys.parseDueSet(keys.batch(batch))).toBeUndefined();
    expect(keys.parseBatch(keys.dueSet(due))).toBeUndefined();
    expect(keys.parseDueSet(keys.dueIndex(5))).toBeUndefined();
    expect(keys.parseDueSet(createKeys('other').dueSet(due))).toBeUndefined();
    expect(keys.parseDueSet('{jrn:due:16}:j:1:s:1')).toBeUndefined();
    expect(keys.parseDueSet('{jrn:due:1}:j:01:s:1')).toBeUndefined();
  });

  it('refuses values that would make keys ambiguous', () => {
    expect(() => createKeys('a:b')).toThrow(InvalidInputError);
    expect(() => createKeys('{a}')).toThrow(InvalidInputError);
    expect(() => createKeys('p', { dueShards: 0 })).toThrow(InvalidInputError);
    expect(() => createKeys('p', { sendHistoryBuckets: 0 })).toThrow(InvalidInputError);
    expect(() => createKeys('p', { sendHistoryBuckets: 1.5 })).toThrow(InvalidInputError);
    expect(() => keys.eventDedup(0, 'a|b', 'e')).toThrow(InvalidInputError);
    expect(() => keys.dueSet({ ...due, branch: { ...branch, journeyId: 'a:b' } })).toThrow(InvalidInputError);
    expect(() => keys.dueSet({ ...due, dueSecond: 1.5 })).toThrow(InvalidInputError);
    expect(() => keys.branchLock('j', 'u', 'e:1')).toThrow(InvalidInputError);
    expect(() => keys.sendHistory('')).toThrow(InvalidInputError);
    expect(() => keys.sendHistory('a|b')).toThrow(expect.objectContaining({ code: 'INVALID_INPUT', unrecoverable: true }));
  });

  it('names BullMQ queues and jobs the way BullMQ accepts', () => {
    for (const name of [...keys.queues.drain, ...keys.queues.dispatch, keys.queues.schedule]) {
      expect(name).not.toContain(':');
      expect(name).toMatch(/^\{jrn-[a-z]+(-\d+(\.\d+)?)?\}$/);
    }
    expect(keys.drainJobId(3)).toBe('ev-3');
    expect(keys.batchJobId(batch)).toBe('batch-5-j_1.3.welcome.1700000000.a1b2c3d4e5f6');
    expect(keys.batchJobId(batch)).not.toContain(':');
    expect(keys.scheduleJobId('jrn_0123456789abcdef0123', 2, 1_790_000_000_000)).toBe('schedule-jrn_0123456789abcdef0123-2-1790000000000');
    expect(() => keys.scheduleJobId('a:b', 1, 0)).toThrow(InvalidInputError);
    expect(() => keys.scheduleJobId('j', 1, 1.5)).toThrow(InvalidInputError);
  });
});

describe('queue groups', () => {
  it('deal partitions and shards out to the groups, never more groups than partitions or shards', () => {
    expect(keys.queues.drain).toHaveLength(4);
    expect(keys.queues.dispatch).toHaveLength(4);
    expect(keys.drainQueueOf(6)).toBe(keys.queues.drain[2]);
    expect(keys.dispatchQueueOf(13)).toBe(keys.queues.dispatch[1]);
    const few = createKeys('jrn', { eventPartitions: 2, dueShards: 1, queueGroups: 8 });
    expect([few.queues.drain.length, few.queues.dispatch.length]).toEqual([2, 1]);
    expect(() => createKeys('jrn', { queueGroups: 0 })).toThrow(InvalidInputError);
    expect(() => createKeys('jrn', { queueGroups: 65 })).toThrow(InvalidInputError);
  });

  it('put group g of n in the middle quarter of the g-th n-th of the slots, whatever the prefix', () => {
    // The slots of the default prefix's queues, as operators find them with CLUSTER KEYSLOT.
    expect(createKeys('je').queues.dispatch.map((name) => [name, keySlot(name)])).toEqual([
      ['{je-dispatch-0.3}', 2417],
      ['{je-dispatch-1.10}', 5924],
      ['{je-dispatch-2.3}', 10001],
      ['{je-dispatch-3.50}', 13960],
    ]);
    for (const prefix of ['je', 'jrn', 'tenant_42', 'x']) {
      for (const groups of [1, 2, 3, 4, 16, 64]) {
        const share = 16_384 / groups;
        createKeys(prefix, { queueGroups: groups, dueShards: 64, eventPartitions: 64 }).queues.dispatch.forEach((name, group) => {
          expect(Math.abs(keySlot(name) - (group + 0.5) * share), `${prefix} ${group}/${groups}`).toBeLessThanOrEqual(share / 8);
        });
      }
    }
    // So a cluster whose 3 masters split the slots evenly serves the 4 groups from all three.
    const masterOf = (slot: number) => Math.floor(slot / (16_384 / 3));
    expect(new Set(keys.queues.dispatch.map((name) => masterOf(keySlot(name)))).size).toBe(3);
    expect(new Set(keys.queues.drain.map((name) => masterOf(keySlot(name)))).size).toBe(3);
  });
});

describe('due members', () => {
  it('round-trips the compact format', () => {
    const member = { userId: 'user:7', entryId: '1700000000000-0', expectedToken: 't4', ownToken: 't5' };
    expect(encodeDueMember(member)).toBe('user:7|1700000000000-0|t4|t5');
    expect(decodeDueMember('user:7|1700000000000-0|t4|t5')).toEqual(member);
    expect(decodeDueMember('u|e||t1')).toEqual({ userId: 'u', entryId: 'e', expectedToken: '', ownToken: 't1' });
  });

  it('rejects what it could not have written', () => {
    expect(() => encodeDueMember({ userId: 'a|b', entryId: 'e', expectedToken: '', ownToken: 't' })).toThrow(InvalidInputError);
    expect(() => encodeDueMember({ userId: 'a', entryId: 'e', expectedToken: 't', ownToken: 't' })).toThrow(InvalidInputError);
    expect(() => encodeDueMember({ userId: 'a', entryId: '', expectedToken: '', ownToken: 't' })).toThrow(InvalidInputError);
    for (const raw of ['', 'u|e|t', 'u|e|t1|t2|x', '|e||t', 'u|e|t|', 'u|e:1||t', 'u|e|t|t']) {
      expect(decodeDueMember(raw), raw).toBeUndefined();
    }
  });
});

describe('script files', () => {
  it('load with includes resolved, and document KEYS, ARGV and returns', () => {
    for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
      const script = loadScript(name);
      expect(script.lua, name).not.toContain('@include');
      expect(script.lua, name).toMatch(/KEYS\[(1|i)\]/);
      expect(script.lua, name).toMatch(/Returns/);
      expect(script.sha).toMatch(/^[0-9a-f]{40}$/);
    }
    expect(loadScript('carveBatch').numberOfKeys).toBe(5);
    expect(loadScript('acceptEvents').numberOfKeys).toBeUndefined();
    expect(loadScript('carveBatch').lua).toContain('local function toInteger');
  });
});
