import { randomBytes } from 'node:crypto';
import type { Logger } from '@journey/config';
import { fnv1a32, type CarvedBatch, type Leases, type DispatchQueue, type DueSchedule, type Keys, type StaleBatch } from '@journey/redis';
import { startPeriodic, type Periodic } from '../periodic.js';

export interface SchedulerOptions {
  keys: Keys;
  dueSchedule: DueSchedule;
  dispatchQueue: DispatchQueue;
  leases: Leases;
  logger: Logger;
  now?: () => number;
  /** How often due sets are looked for (SCHEDULER_TICK_MS): the bound on how late a due second starts. */
  tickMs: number;
  /** A carved batch still registered after this long (STALE_BATCH_MS) has lost its job: it is enqueued again. */
  staleBatchMs: number;
  /**
   * How often stale batches are looked at (default a third of staleBatchMs), not every tick: most of them only wait
   * their turn in the queue, and a lost one is found that much later at most.
   */
  recoverEveryMs?: number;
  /** Batches enqueued in one BullMQ round trip (default 500). */
  enqueueChunk?: number;
  /**
   * How long a shard's lease and the scheduler's place among the live ones last unless renewed (default 10 ticks, at
   * least 2 s): a scheduler that died leaves its shards uncarved that long. They are renewed every third of it.
   */
  leaseMs?: number;
}

export interface TickResult {
  carvedBatches: number;
  carvedUsers: number;
  recoveredBatches: number;
}

/** The scheduler among `alive` that carves `shard`: the highest hash of (scheduler, shard), the same for everyone. */
export function carverOf(shard: number, alive: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const id of alive) {
    const score = fnv1a32(`${id}:${shard}`);
    if (score > bestScore || (score === bestScore && id < best!)) [best, bestScore] = [id, score];
  }
  return best;
}

export interface Scheduler {
  /** This scheduler's id among the live ones. */
  readonly id: string;
  /**
   * One pass over the shards this scheduler holds the lease of (taken or renewed first when due): carve what is due
   * into batches of at most 200 and enqueue a job per batch; when the recovery is due, enqueue again the stale
   * batches whose job is missing and retry those whose job failed.
   */
  tick(): Promise<TickResult>;
  /** The shards whose lease this scheduler holds (as of its last renewal). */
  shards(): number[];
  start(): void;
  /** Stops after the pass under way. */
  stop(): Promise<void>;
}

/**
 * Any number of schedulers may run (one per worker process), and each shard is carved by one of them at a time: the
 * schedulers alive share the shards out (carverOf) and each takes the lease of its own (keys.carverLease). So batches are
 * as full as one scheduler makes them, and the due indexes are polled once per tick whatever the number of workers.
 * Carving is one atomic script per batch anyway, so two carvers of a shard (a lease that lapsed under a stalled holder)
 * still put each user in exactly one batch, and batch job ids are derived from the batch, so enqueueing one twice adds
 * one job. A scheduler that dies between carving and enqueueing leaves a registered batch without a job; the recovery
 * pass of the shard's next holder enqueues it again.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { keys, dueSchedule, dispatchQueue, leases, logger } = options;
  const now = options.now ?? Date.now;
  const { tickMs, staleBatchMs } = options;
  const enqueueChunk = options.enqueueChunk ?? 500;
  const recoverEveryMs = options.recoverEveryMs ?? Math.max(1, Math.floor(staleBatchMs / 3));
  const leaseMs = options.leaseMs ?? Math.max(2_000, 10 * tickMs);
  const id = randomBytes(8).toString('hex');
  const allShards = Array.from({ length: keys.dueShards }, (_, shard) => shard);
  let nextRecoveryMs = Number.NEGATIVE_INFINITY;
  // Leases run on Redis's clock, so they are renewed on this process's monotonic clock, not on the injected `now`.
  let nextRenewal = Number.NEGATIVE_INFINITY;
  let held: number[] = [];

  /** Notes this scheduler alive, then in one script takes or renews its own shards and gives up those no longer its own. */
  async function renewLeases(): Promise<void> {
    const alive = await leases.heartbeat(id, leaseMs);
    const mine = new Set(allShards.filter((shard) => carverOf(shard, alive) === id));
    const asked = allShards.filter((shard) => mine.has(shard) || held.includes(shard));
    if (asked.length === 0) return;
    const holds = await leases.claim(
      asked.map((shard) => keys.carverLease(shard)),
      id,
      leaseMs,
      asked.map((shard) => mine.has(shard)),
    );
    held = asked.filter((_, index) => holds[index]);
  }

  async function carveShard(shard: number, nowMs: number, result: TickResult): Promise<void> {
    const { due, invalid } = await dueSchedule.dueSets(shard, { nowSecond: Math.floor(nowMs / 1000), limit: 100 });
    if (invalid.length > 0) logger.warn({ shard, invalid }, 'due index holds keys that are no due sets');
    let pending: CarvedBatch[] = [];
    for (const set of due) {
      for (;;) {
        const batch = await dueSchedule.carve(set.ref, { nowMs });
        if (batch === null) break;
        pending.push(batch);
        result.carvedBatches++;
        result.carvedUsers += batch.size;
        if (pending.length >= enqueueChunk) {
          await dispatchQueue.enqueue(pending);
          pending = [];
        }
      }
    }
    await dispatchQueue.enqueue(pending);
  }

  async function recoverShard(shard: number, nowMs: number, result: TickResult): Promise<void> {
    const { stale } = await dueSchedule.staleBatches(shard, { olderThanMs: staleBatchMs, nowMs, limit: 500 });
    const states = await dispatchQueue.jobStates(stale.map(({ batch }) => batch));
    const lost: StaleBatch[] = [];
    for (const [index, each] of stale.entries()) {
      const state = states[index];
      if (state === 'missing') {
        lost.push(each);
      } else if (state === 'failed') {
        // Gone since (removed as the oldest of the kept failures): the next pass finds it missing.
        if (await dispatchQueue.retryFailed(each.batch)) result.recoveredBatches++;
      } else if (state === 'completed') {
        // Its job finished the batch just after the query read it as registered: finishing again is a no-op.
        await dueSchedule.finish(each.batch);
      }
      // pending (waiting, delayed or running): its job will finish it.
    }
    await dispatchQueue.enqueue(lost);
    result.recoveredBatches += lost.length;
  }

  async function tick(): Promise<TickResult> {
    const result: TickResult = { carvedBatches: 0, carvedUsers: 0, recoveredBatches: 0 };
    if (performance.now() >= nextRenewal) {
      nextRenewal = performance.now() + leaseMs / 3;
      await renewLeases();
    }
    const nowMs = now();
    const shards = held;
    await Promise.all(shards.map((shard) => carveShard(shard, nowMs, result)));
    if (nowMs >= nextRecoveryMs) {
      nextRecoveryMs = nowMs + recoverEveryMs;
      await Promise.all(shards.map((shard) => recoverShard(shard, nowMs, result)));
    }
    return result;
  }

  let periodic: Periodic | undefined;

  return {
    id,
    tick,
    shards: () => [...held],
    start() {
      periodic ??= startPeriodic(
        async () => {
          const result = await tick();
          if (result.carvedBatches > 0 || result.recoveredBatches > 0) logger.debug(result, 'scheduled due batches');
        },
        { intervalMs: tickMs, logger, what: 'scheduler pass' },
      );
    },
    async stop() {
      await periodic?.stop();
      periodic = undefined;
      // The others take the shards at their next renewal instead of after the leases lapse.
      const released = held;
      held = [];
      nextRenewal = Number.NEGATIVE_INFINITY;
      const giveUp = async () => {
        if (released.length === 0) return;
        const leaseKeys = released.map((shard) => keys.carverLease(shard));
        await leases.claim(
          leaseKeys,
          id,
          leaseMs,
          leaseKeys.map(() => false),
        );
      };
      await Promise.allSettled([leases.leave(id), giveUp()]);
    },
  };
}
