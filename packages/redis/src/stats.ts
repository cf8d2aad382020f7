import { STEP_COUNTERS, type StepCount, type StepCounter } from '@journey/core';
import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import { KEY_ID_PATTERN } from './ids.js';
import type { Keys } from './keys.js';

/**
 * Journey counters, one hash per (journey, version). Fields:
 *   <stepId>:<counter>             the step as a whole
 *   <stepId>:<branchId>:<counter>  one branch of a split (branch, path or variant id)
 * Step and branch ids never contain ":" (KEY_ID_PATTERN), so fields parse back unambiguously.
 */

export const STAT_COUNTERS = STEP_COUNTERS;
export type StatCounter = StepCounter;
export type Counters = Record<StatCounter, number>;
/** One counter to add to (core's StepCount): the step as a whole, or one branch of it. */
export type StatIncrement = StepCount;

export interface StepStats {
  counters: Counters;
  branches: Record<string, Counters>;
}

export interface JourneyStats {
  steps: Record<string, StepStats>;
  /** Fields that are no counter of ours (reported, never thrown, so one stray field does not hide the rest). */
  invalidFields: string[];
}

export interface Stats {
  /** Applies all increments atomically (MULTI on the one hash of the journey version). */
  increment(journeyId: string, version: number, increments: readonly StatIncrement[]): Promise<void>;
  read(journeyId: string, version: number): Promise<JourneyStats>;
}

const COUNTER_SET: ReadonlySet<string> = new Set(STAT_COUNTERS);

export function createStats(redis: RedisClient, keys: Keys): Stats {
  return {
    async increment(journeyId, version, increments) {
      const key = keys.stats(journeyId, version);
      const totals = new Map<string, number>();
      for (const increment of increments) {
        const field = fieldOf(increment);
        const by = increment.by ?? 1;
        if (!Number.isSafeInteger(by)) throw new InvalidInputError('stat increment must be an integer', { by });
        totals.set(field, (totals.get(field) ?? 0) + by);
      }
      if (totals.size === 0) return;
      const multi = redis.multi();
      for (const [field, by] of totals) multi.hincrby(key, field, by);
      const replies = await multi.exec();
      for (const [error] of replies ?? []) if (error) throw error;
      if (!replies) throw new UnexpectedReplyError({ script: 'MULTI HINCRBY', reply: replies });
    },

    async read(journeyId, version) {
      const hash = await redis.hgetall(keys.stats(journeyId, version));
      const steps: Record<string, StepStats> = {};
      const invalidFields: string[] = [];
      for (const [field, text] of Object.entries(hash)) {
        const parts = field.split(':');
        const counter = parts.at(-1)!;
        const value = /^-?\d{1,16}$/.test(text) ? Number(text) : Number.NaN;
        const ids = parts.slice(0, -1);
        if (
          !COUNTER_SET.has(counter) ||
          !Number.isSafeInteger(value) ||
          ids.length < 1 ||
          ids.length > 2 ||
          !ids.every((id) => KEY_ID_PATTERN.test(id))
        ) {
          invalidFields.push(field);
          continue;
        }
        const [stepId, branchId] = ids as [string, string | undefined];
        const step = (steps[stepId] ??= { counters: zeroCounters(), branches: {} });
        const counters = branchId === undefined ? step.counters : (step.branches[branchId] ??= zeroCounters());
        counters[counter as StatCounter] = value;
      }
      return { steps, invalidFields };
    },
  };
}

function fieldOf({ stepId, branchId, counter }: StatIncrement): string {
  if (!KEY_ID_PATTERN.test(stepId)) throw new InvalidInputError('stepId must be 1 to 64 letters, digits, "_" or "-"', { stepId });
  if (branchId !== undefined && !KEY_ID_PATTERN.test(branchId))
    throw new InvalidInputError('branchId must be 1 to 64 letters, digits, "_" or "-"', { branchId });
  if (!COUNTER_SET.has(counter)) throw new InvalidInputError(`unknown stat counter "${counter}"`, { counter });
  return branchId === undefined ? `${stepId}:${counter}` : `${stepId}:${branchId}:${counter}`;
}

function zeroCounters(): Counters {
  return Object.fromEntries(STAT_COUNTERS.map((counter) => [counter, 0])) as Counters;
}
