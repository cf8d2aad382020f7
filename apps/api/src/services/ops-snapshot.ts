import type { DeadLetters, DueSchedule, EventsStream, Keys, OpsActivity, OpsFailure } from '@journey/redis';
import type { Queue } from 'bullmq';
import { QUEUE_COUNT_STATES, type OpsQueues } from '../schemas/ops.js';

export type QueueName = OpsQueues['queues'][number]['name'];

export interface OpsSnapshotDeps {
  keys: Keys;
  /** Every BullMQ queue of the engine by kind (a drain and a dispatch queue per queue group). */
  queues: Record<QueueName, readonly Queue[]>;
  dueSchedule: Pick<DueSchedule, 'backlog'>;
  events: Pick<EventsStream, 'lengths'>;
  deadLetters: Pick<DeadLetters, 'counts' | 'recent'>;
  activity: Pick<OpsActivity, 'window' | 'recentFailures'>;
  now?: () => number;
}

/** Failed jobs read per queue: enough for "recent", bounded whatever piled up. */
const FAILED_JOBS_READ = 10;
const FAILURES_SHOWN = 20;
const DEAD_LETTERS_SHOWN = 10;

/**
 * What the engine is doing, read from Redis only: counters, index heads and capped lists, so its cost does not grow
 * with the users waiting (no KEYS, no SCAN, no set sizes summed). One snapshot serves /v1/ops/queues and /metrics.
 */
export function createOpsSnapshot(deps: OpsSnapshotDeps): () => Promise<OpsQueues> {
  const now = deps.now ?? Date.now;
  const names = Object.keys(deps.queues) as QueueName[];

  async function queueFailures(): Promise<OpsFailure[]> {
    // Dispatch failures are recorded with their batch by the worker; drains and schedule runs are read here.
    const sources = { drain: 'drain', schedule: 'schedule' } as const;
    const lists = await Promise.all(
      (Object.keys(sources) as Array<keyof typeof sources>).map(async (name) => {
        const jobs = (await Promise.all(deps.queues[name].map((queue) => queue.getFailed(0, FAILED_JOBS_READ - 1)))).flat();
        return jobs.flatMap((job) =>
          job
            ? [
                {
                  at: job.finishedOn ?? job.timestamp,
                  source: sources[name],
                  reason: job.failedReason || 'failed',
                  ...(job.id ? { jobId: job.id } : {}),
                },
              ]
            : [],
        );
      }),
    );
    return lists.flat();
  }

  return async function snapshot() {
    const at = now();
    const shards = Array.from({ length: deps.keys.dueShards }, (_, shard) => shard);
    const [counts, backlogs, lengths, deadCounts, deadLetters, window, recorded, failedJobs] = await Promise.all([
      Promise.all(names.map((name) => Promise.all(deps.queues[name].map((queue) => queue.getJobCounts(...QUEUE_COUNT_STATES))))),
      Promise.all(shards.map((shard) => deps.dueSchedule.backlog(shard))),
      deps.events.lengths(),
      deps.deadLetters.counts(),
      deps.deadLetters.recent(DEAD_LETTERS_SHOWN),
      deps.activity.window({ nowMs: at }),
      deps.activity.recentFailures(FAILURES_SHOWN),
      queueFailures(),
    ]);

    const oldestDue = minOf(backlogs.map((backlog) => backlog.oldestDueSecond));
    const oldestCarved = minOf(backlogs.map((backlog) => backlog.oldestBatchCarvedAtMs));
    const failures = [...recorded, ...failedJobs].sort((a, b) => b.at - a.at).slice(0, FAILURES_SHOWN);
    return {
      at: new Date(at).toISOString(),
      queues: names.map((name, index) => ({
        name,
        queues: deps.queues[name].map((queue) => queue.name),
        // Summed over the kind's queues: one queue group or another is the engine's business, not the operator's.
        counts: Object.fromEntries(
          QUEUE_COUNT_STATES.map((state) => [state, sum((counts[index] ?? []).map((each) => each[state] ?? 0))]),
        ) as OpsQueues['queues'][number]['counts'],
      })),
      batches: {
        shards: shards.length,
        dueSets: sum(backlogs.map((backlog) => backlog.dueSets)),
        usersWaiting: sum(backlogs.map((backlog) => backlog.usersWaiting)),
        oldestDueAt: oldestDue === null ? null : new Date(oldestDue * 1000).toISOString(),
        lagSeconds: oldestDue === null ? 0 : Math.max(0, Math.round((at / 1000 - oldestDue) * 10) / 10),
        unfinishedBatches: sum(backlogs.map((backlog) => backlog.unfinishedBatches)),
        oldestBatchCarvedAt: oldestCarved === null ? null : new Date(oldestCarved).toISOString(),
      },
      events: {
        pending: sum(lengths),
        deadLetters: sum(deadCounts),
        recentDeadLetters: deadLetters.map((letter) => ({ ...letter, at: new Date(letter.at).toISOString() })),
      },
      rates: { windowSeconds: window.seconds, perSecond: window.perSecond, totals: window.totals },
      failures: failures.map((failure) => ({ ...failure, at: new Date(failure.at).toISOString() })),
    };
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

function minOf(values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null);
  return present.length === 0 ? null : Math.min(...present);
}
