import type { Logger } from '@journey/config';
import type { CarvedBatch, DispatchQueue, DueSchedule, Keys, StaleBatch } from '@journey/redis';
import { startPeriodic, type Periodic } from '../periodic.js';

export interface SchedulerOptions {
  keys: Keys;
  dueSchedule: DueSchedule;
  dispatchQueue: DispatchQueue;
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
}

export interface TickResult {
  carvedBatches: number;
  carvedUsers: number;
  recoveredBatches: number;
}

export interface Scheduler {
  /**
   * One pass over every shard: carve what is due into batches of at most 200 and enqueue a job per batch; when the
   * recovery is due, enqueue again the stale batches whose job is missing and retry those whose job failed.
   */
  tick(): Promise<TickResult>;
  start(): void;
  /** Stops after the pass under way. */
  stop(): Promise<void>;
}

/**
 * Any number of schedulers may run (one per worker process): carving is one atomic script per batch, so each
 * user is carved into exactly one batch whoever carves it, and batch job ids are derived from the batch, so
 * enqueueing one twice adds one job. A scheduler that dies between carving and enqueueing leaves a registered
 * batch without a job; every scheduler's recovery pass enqueues such batches again.
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  const { keys, dueSchedule, dispatchQueue, logger } = options;
  const now = options.now ?? Date.now;
  const { tickMs, staleBatchMs } = options;
  const enqueueChunk = options.enqueueChunk ?? 500;
  const recoverEveryMs = options.recoverEveryMs ?? Math.max(1, Math.floor(staleBatchMs / 3));
  let nextRecoveryMs = Number.NEGATIVE_INFINITY;

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
    const nowMs = now();
    const shards = Array.from({ length: keys.dueShards }, (_, shard) => shard);
    await Promise.all(shards.map((shard) => carveShard(shard, nowMs, result)));
    if (nowMs >= nextRecoveryMs) {
      nextRecoveryMs = nowMs + recoverEveryMs;
      await Promise.all(shards.map((shard) => recoverShard(shard, nowMs, result)));
    }
    return result;
  }

  let periodic: Periodic | undefined;

  return {
    tick,
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
    },
  };
}
