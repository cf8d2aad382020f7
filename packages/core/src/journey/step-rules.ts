import type { z } from 'zod';
import { isRecord } from '../data/is-record.js';

/**
 * Rules that relate several fields of one step. They read the raw value because they run even when a
 * sibling field is malformed (so every problem is reported at once), hence the defensive reads.
 */

export function checkUniqueIds(step: unknown, listKey: string, ctx: z.RefinementCtx, reservedId?: string): void {
  if (!isRecord(step)) return;
  const items = step[listKey];
  if (!Array.isArray(items)) return;
  const seen = new Set<string>();
  items.forEach((item, index) => {
    if (!isRecord(item) || typeof item.id !== 'string') return;
    const path = [listKey, index, 'id'];
    if (item.id === reservedId) {
      ctx.addIssue({ code: 'custom', path, message: `"${reservedId}" is reserved for the step's fallback path`, input: item.id });
    } else if (seen.has(item.id)) {
      ctx.addIssue({ code: 'custom', path, message: `duplicate id "${item.id}"; ids must be unique within the step`, input: item.id });
    }
    seen.add(item.id);
  });
}

export function checkWeightsSumTo100(step: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(step) || !Array.isArray(step.variants) || step.variants.length === 0) return;
  const weights = step.variants.map((variant) => (isRecord(variant) ? variant.weight : undefined));
  if (!weights.every((weight): weight is number => typeof weight === 'number')) return;
  const total = weights.reduce((sum, weight) => sum + weight, 0);
  if (total !== 100) {
    ctx.addIssue({ code: 'custom', path: ['variants'], message: `variant weights must add up to 100, not ${total}`, input: step.variants });
  }
}

export function checkDelayHasOneTarget(step: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(step)) return;
  const hasDuration = step.duration !== undefined;
  const hasUntil = step.until !== undefined;
  if (hasDuration && hasUntil) {
    ctx.addIssue({ code: 'custom', path: [], message: 'a delay takes either "duration" or "until", not both', input: step });
  } else if (!hasDuration && !hasUntil) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'a delay needs "duration" (like "PT1H") or "until" (like { "time": "09:00", "timezone": "user" })',
      input: step,
    });
  }
}

export function checkQuietHoursNotEmpty(window: unknown, ctx: z.RefinementCtx): void {
  if (isRecord(window) && typeof window.start === 'string' && window.start === window.end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'quiet hours must end at a different time than they start', input: window.end });
  }
}

/** Runs a rule on whatever object was given, even if some of its fields failed their own schema. */
export const onAnyObject = { when: (payload: { value: unknown }) => isRecord(payload.value) };
