import { JOURNEY_TOTAL, STEP_COUNTERS, type StepCount, type StepCounter } from '@journey/core';
import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import { KEY_ID_PATTERN } from './ids.js';
import type { Keys } from './keys.js';

/**
 * Journey counters, one hash per (journey, version), and the same counters per hour and per day in hashes that
 * expire (STATS_BUCKETS), so the counters over time take bounded memory. Fields:
 *   <stepId>:<counter>             the step as a whole
 *   <stepId>:<branchId>:<counter>  one branch of a split (branch, path or variant id)
 *   *:<counter>                    the journey as a whole (entries, conversions)
 * Step and branch ids never contain ":" (KEY_ID_PATTERN) and are never "*", so fields parse back unambiguously.
 */

export const STAT_COUNTERS = STEP_COUNTERS;
export type StatCounter = StepCounter;
export type Counters = Record<StatCounter, number>;
/** One counter to add to (core's StepCount): the step as a whole, or one branch of it. */
export type StatIncrement = StepCount;

/** The buckets kept, and for how long: an hour's counters for 14 days, a day's for 400 days. */
export const STATS_BUCKETS = {
  hour: { tag: 'h', seconds: 3_600, keptSeconds: 14 * 86_400 },
  day: { tag: 'd', seconds: 86_400, keptSeconds: 400 * 86_400 },
} as const;
export type StatsInterval = keyof typeof STATS_BUCKETS;

export interface StepStats {
  counters: Counters;
  branches: Record<string, Counters>;
}

export interface JourneyStats {
  /** The journey as a whole: `entered` (entries) and `converted` (entries that reached the goal). */
  journey: Counters;
  steps: Record<string, StepStats>;
  /** Fields that are no counter of ours (reported, never thrown, so one stray field does not hide the rest). */
  invalidFields: string[];
}

export interface StatsBucket extends JourneyStats {
  /** Epoch seconds the bucket starts at (UTC hours and days). */
  start: number;
}

export interface Stats {
  /**
   * Applies all increments atomically (MULTI) to the version's hash and to the hour and day buckets of `atMs`
   * (epoch ms: when the counted thing happened).
   */
  increment(journeyId: string, version: number, increments: readonly StatIncrement[], atMs: number): Promise<void>;
  read(journeyId: string, version: number): Promise<JourneyStats>;
  /** The non-empty buckets of `interval` starting in [fromSecond, toSecond), oldest first. */
  readBuckets(journeyId: string, version: number, interval: StatsInterval, fromSecond: number, toSecond: number): Promise<StatsBucket[]>;
  /** Deletes the version's counters (the journey is deleted); its buckets expire on their own. */
  remove(journeyId: string, version: number): Promise<void>;
}

const COUNTER_SET: ReadonlySet<string> = new Set(STAT_COUNTERS);

export function createStats(redis: RedisClient, keys: Keys): Stats {
  return {
    async increment(journeyId, version, increments, atMs) {
      if (!Number.isSafeInteger(atMs) || atMs < 0) throw new InvalidInputError('stat time must be epoch ms', { atMs });
      const totals = new Map<string, number>();
      for (const increment of increments) {
        const field = fieldOf(increment);
        const by = increment.by ?? 1;
        if (!Number.isSafeInteger(by)) throw new InvalidInputError('stat increment must be an integer', { by });
        totals.set(field, (totals.get(field) ?? 0) + by);
      }
      if (totals.size === 0) return;
      const second = Math.floor(atMs / 1000);
      const multi = redis.multi();
      for (const [field, by] of totals) multi.hincrby(keys.stats(journeyId, version), field, by);
      for (const bucket of Object.values(STATS_BUCKETS)) {
        const start = second - (second % bucket.seconds);
        const key = keys.statsBucket(journeyId, version, bucket.tag, start);
        for (const [field, by] of totals) multi.hincrby(key, field, by);
        multi.expireat(key, start + bucket.seconds + bucket.keptSeconds);
      }
      const replies = await multi.exec();
      for (const [error] of replies ?? []) if (error) throw error;
      if (!replies) throw new UnexpectedReplyError({ script: 'MULTI HINCRBY', reply: replies });
    },

    async read(journeyId, version) {
      return parse(await redis.hgetall(keys.stats(journeyId, version)));
    },

    async readBuckets(journeyId, version, interval, fromSecond, toSecond) {
      const { tag, seconds } = STATS_BUCKETS[interval];
      const starts: number[] = [];
      for (let start = fromSecond - (fromSecond % seconds); start < toSecond; start += seconds) if (start >= fromSecond) starts.push(start);
      if (starts.length === 0) return [];
      const pipeline = redis.pipeline();
      for (const start of starts) pipeline.hgetall(keys.statsBucket(journeyId, version, tag, start));
      const replies = (await pipeline.exec()) ?? [];
      const buckets: StatsBucket[] = [];
      replies.forEach(([error, hash], index) => {
        if (error) throw error;
        if (hash && typeof hash === 'object' && Object.keys(hash).length > 0)
          buckets.push({ start: starts[index]!, ...parse(hash as Record<string, string>) });
      });
      return buckets;
    },

    async remove(journeyId, version) {
      await redis.del(keys.stats(journeyId, version));
    },
  };
}

function parse(hash: Record<string, string>): JourneyStats {
  const journey = zeroCounters();
  const steps: Record<string, StepStats> = {};
  const invalidFields: string[] = [];
  for (const [field, text] of Object.entries(hash)) {
    const parts = field.split(':');
    const counter = parts.at(-1)!;
    const value = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
    const ids = parts.slice(0, -1);
    if (!COUNTER_SET.has(counter) || !Number.isSafeInteger(value)) {
      invalidFields.push(field);
      continue;
    }
    if (ids.length === 1 && ids[0] === JOURNEY_TOTAL) {
      journey[counter as StatCounter] = value;
      continue;
    }
    if (ids.length < 1 || ids.length > 2 || !ids.every((id) => KEY_ID_PATTERN.test(id))) {
      invalidFields.push(field);
      continue;
    }
    const [stepId, branchId] = ids as [string, string | undefined];
    const step = (steps[stepId] ??= { counters: zeroCounters(), branches: {} });
    const counters = branchId === undefined ? step.counters : (step.branches[branchId] ??= zeroCounters());
    counters[counter as StatCounter] = value;
  }
  return { journey, steps, invalidFields };
}

function fieldOf({ stepId, branchId, counter }: StatIncrement): string {
  if (!COUNTER_SET.has(counter)) throw new InvalidInputError(`unknown stat counter "${counter}"`, { counter });
  if (stepId === JOURNEY_TOTAL && branchId === undefined) return `${JOURNEY_TOTAL}:${counter}`;
  if (!KEY_ID_PATTERN.test(stepId)) throw new InvalidInputError('stepId must be 1 to 64 letters, digits, "_" or "-"', { stepId });
  if (branchId !== undefined && !KEY_ID_PATTERN.test(branchId))
    throw new InvalidInputError('branchId must be 1 to 64 letters, digits, "_" or "-"', { branchId });
  return branchId === undefined ? `${stepId}:${counter}` : `${stepId}:${branchId}:${counter}`;
}

function zeroCounters(): Counters {
  return Object.fromEntries(STAT_COUNTERS.map((counter) => [counter, 0])) as Counters;
}
