import type { z } from 'zod';
import { isRecord } from '../data/is-record.js';
import { templateProblem, valueTemplateProblems } from '../template/liquid.js';

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

/** Every template of a message step parses: payload strings, the webhook URL (values URL-encoded) and headers. */
export function checkMessageTemplates(step: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(step)) return;
  for (const issue of valueTemplateProblems(step.payload, ['payload'])) ctx.addIssue({ code: 'custom', ...issue, input: step.payload });
  const webhook = step.webhook;
  if (!isRecord(webhook)) return;
  if (typeof webhook.url === 'string') {
    const problem = templateProblem(webhook.url, 'url');
    if (problem !== null)
      ctx.addIssue({ code: 'custom', path: ['webhook', 'url'], message: `is not a valid Liquid template: ${problem}`, input: webhook.url });
  }
  if (isRecord(webhook.headers)) {
    for (const issue of valueTemplateProblems(webhook.headers, ['webhook', 'headers']))
      ctx.addIssue({ code: 'custom', ...issue, input: webhook.headers });
  }
}

/** A user_update changes something, names an attribute in `set` or `unset` but not both, and its templates parse. */
export function checkUserUpdate(step: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(step)) return;
  const set = isRecord(step.set) ? Object.keys(step.set) : [];
  const unset = Array.isArray(step.unset) ? step.unset.filter((name): name is string => typeof name === 'string') : [];
  if (set.length === 0 && unset.length === 0) {
    ctx.addIssue({ code: 'custom', path: [], message: 'a user_update needs at least one attribute in "set" or "unset"', input: step });
  }
  unset.forEach((name, index) => {
    if (set.includes(name))
      ctx.addIssue({ code: 'custom', path: ['unset', index], message: `"${name}" is also in "set": name it in one of them`, input: name });
  });
  for (const issue of valueTemplateProblems(step.set, ['set'])) ctx.addIssue({ code: 'custom', ...issue, input: step.set });
}

/** A schedule fires once (`at`) or again and again (`cron`, optionally in `timezone`): exactly one of the two. */
export function checkScheduleHasOneTime(trigger: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(trigger)) return;
  const hasAt = trigger.at !== undefined;
  const hasCron = trigger.cron !== undefined;
  if (hasAt && hasCron) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'a schedule takes either "at" (once) or "cron" (recurring), not both',
      input: trigger,
    });
  } else if (!hasAt && !hasCron) {
    ctx.addIssue({
      code: 'custom',
      path: [],
      message: 'a schedule needs "at" (like "2030-06-01T09:00:00Z") or "cron" (like "0 9 * * 1")',
      input: trigger,
    });
  }
  if (hasAt && trigger.timezone !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['timezone'],
      message: '"timezone" goes with "cron": an "at" carries its own offset',
      input: trigger.timezone,
    });
  }
}

/** Runs a rule on whatever object was given, even if some of its fields failed their own schema. */
export const onAnyObject = { when: (payload: { value: unknown }) => isRecord(payload.value) };
