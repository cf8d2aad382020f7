import type { RedisClient } from './connection.js';
import { z } from 'zod';
import type { Keys } from './keys.js';

/**
 * What operators see of the dispatchers' recent work (GET /v1/ops/queues, /metrics): per-second counters of
 * dispatched members and send outcomes, and a capped list of recent failures. Every worker process writes here, so
 * one API process sees the whole fleet. One hash per second that expires: reading the last minute is 60 HGETALLs in
 * one round trip whatever the traffic, and nothing here grows with the number of users.
 */

export const ACTIVITY_COUNTERS = ['dispatched', 'sent', 'failed', 'skipped'] as const;
export type ActivityCounter = (typeof ACTIVITY_COUNTERS)[number];
export type ActivityCounts = Record<ActivityCounter, number>;

/** Seconds a per-second hash is kept: the reported window plus slack for clock skew between processes. */
const ACTIVITY_TTL_SECONDS = 180;
/** Failures kept, newest first. */
export const FAILURES_KEPT = 100;

export const OpsFailureSchema = z.object({
  /** Epoch ms. */
  at: z.number().int().nonnegative(),
  /** Where it failed: a batch job, a send, a drain. */
  source: z.enum(['dispatch', 'send', 'drain', 'schedule']),
  reason: z.string(),
  journeyId: z.string().optional(),
  stepId: z.string().optional(),
  userId: z.string().optional(),
  jobId: z.string().optional(),
});
export type OpsFailure = z.infer<typeof OpsFailureSchema>;

export interface ActivityWindow {
  seconds: number;
  totals: ActivityCounts;
  /** totals / seconds. */
  perSecond: ActivityCounts;
}

export interface OpsActivity {
  /** Adds to the counters of the second `nowMs` falls in; counters of zero are not written. */
  record(counts: Partial<ActivityCounts>, nowMs?: number): Promise<void>;
  /** The counters of the `seconds` full seconds before the one `nowMs` falls in (default the last minute). */
  window(options?: { nowMs?: number; seconds?: number }): Promise<ActivityWindow>;
  recordFailure(failure: OpsFailure): Promise<void>;
  /** Newest first; entries that do not parse (another version's, a hand edit) are skipped, not thrown. */
  recentFailures(limit?: number): Promise<OpsFailure[]>;
}

const zero = (): ActivityCounts => ({ dispatched: 0, sent: 0, failed: 0, skipped: 0 });

export function createOpsActivity(redis: RedisClient, keys: Keys): OpsActivity {
  return {
    async record(counts, nowMs = Date.now()) {
      const entries = ACTIVITY_COUNTERS.flatMap((counter) => {
        const by = counts[counter] ?? 0;
        return Number.isSafeInteger(by) && by > 0 ? [[counter, by] as const] : [];
      });
      if (entries.length === 0) return;
      const key = keys.opsActivity(Math.floor(nowMs / 1000));
      const pipeline = redis.multi();
      for (const [counter, by] of entries) pipeline.hincrby(key, counter, by);
      pipeline.expire(key, ACTIVITY_TTL_SECONDS);
      await pipeline.exec();
    },

    async window({ nowMs = Date.now(), seconds = 60 } = {}) {
      const current = Math.floor(nowMs / 1000);
      // One command per second's key (each its own slot: a pipeline across slots fails on a cluster), sent together.
      const hashes = await Promise.all(
        Array.from({ length: seconds }, (_, index) => redis.hgetall(keys.opsActivity(current - seconds + index))),
      );
      const totals = zero();
      for (const hash of hashes) {
        for (const counter of ACTIVITY_COUNTERS) {
          const value = Number(hash[counter] ?? 0);
          if (Number.isSafeInteger(value) && value > 0) totals[counter] += value;
        }
      }
      const perSecond = zero();
      for (const counter of ACTIVITY_COUNTERS) perSecond[counter] = Math.round((totals[counter] / seconds) * 100) / 100;
      return { seconds, totals, perSecond };
    },

    async recordFailure(failure) {
      const key = keys.opsFailures();
      await redis
        .multi()
        .lpush(key, JSON.stringify(OpsFailureSchema.parse(failure)))
        .ltrim(key, 0, FAILURES_KEPT - 1)
        .exec();
    },

    async recentFailures(limit = 20) {
      const raw = await redis.lrange(keys.opsFailures(), 0, Math.min(limit, FAILURES_KEPT) - 1);
      return raw.flatMap((text) => {
        try {
          const parsed = OpsFailureSchema.safeParse(JSON.parse(text));
          return parsed.success ? [parsed.data] : [];
        } catch {
          return [];
        }
      });
    },
  };
}
