import { DateTime } from 'luxon';
import type { JourneyDefinition, ScheduleTrigger } from '../journey/schema.js';
import type { ValidationIssue } from '../journey/issues.js';
import { isCronOccurrence, nextCronOccurrence } from '../time/cron.js';
import type { EpochMs } from '../time/epoch.js';
import { resolveZone } from '../time/zone.js';

/**
 * When `schedule` triggers enter users. A one-time `at` is one run. A `cron` in a zone is one run per occurrence. A
 * `cron` in the users' own zones ("user") is one run per distinct instant: every zone whose local occurrence falls
 * on that instant shares the run, so a Monday-09:00 journey makes a few dozen runs a week (one per UTC offset in
 * use), each reading only the users of its zones, instead of every user being looked at every minute.
 */

/** One run of a schedule trigger: its instant, and the zones whose users it enters (null: every user). */
export interface ScheduleRun {
  at: EpochMs;
  zones: string[] | null;
}

/** The IANA zones a "user" schedule knows, canonical names as the runtime lists them. */
export const KNOWN_ZONES: readonly string[] = Intl.supportedValuesOf('timeZone');

/** The instant a one-time schedule fires; null for a recurring one. */
export function scheduledAt(trigger: ScheduleTrigger): EpochMs | null {
  return trigger.at === undefined ? null : DateTime.fromISO(trigger.at, { setZone: true }).toMillis();
}

/** The zone a zoned cron is read in: its own, else the journey's. */
function cronZone(trigger: ScheduleTrigger, journey: JourneyDefinition): string {
  return trigger.timezone !== undefined && trigger.timezone !== 'user' ? trigger.timezone : journey.settings.timezone;
}

/**
 * The runs to add for a schedule trigger as of `now`: a one-time run (whenever it is: the queue runs a past one at
 * once, and adding it again is a no-op), or each recurring run's next occurrence strictly after `now`.
 */
export function upcomingScheduleRuns(journey: JourneyDefinition, now: EpochMs): ScheduleRun[] {
  const trigger = journey.entry.trigger;
  if (trigger.type !== 'schedule') return [];
  const at = scheduledAt(trigger);
  if (at !== null) return [{ at, zones: null }];
  const cron = trigger.cron!;
  if (trigger.timezone !== 'user') {
    const next = nextCronOccurrence(cron, cronZone(trigger, journey), now);
    return next === null ? [] : [{ at: next, zones: null }];
  }
  const byInstant = new Map<EpochMs, string[]>();
  for (const zone of KNOWN_ZONES) {
    const next = nextCronOccurrence(cron, zone, now);
    if (next === null) continue;
    const zones = byInstant.get(next);
    if (zones) zones.push(zone);
    else byInstant.set(next, [zone]);
  }
  return [...byInstant].sort(([a], [b]) => a - b).map(([instant, zones]) => ({ at: instant, zones }));
}

/** Whether a run (as added earlier) still belongs to this version's trigger: a run of an edited trigger enters nobody. */
export function isScheduleRun(journey: JourneyDefinition, run: ScheduleRun): boolean {
  const trigger = journey.entry.trigger;
  if (trigger.type !== 'schedule') return false;
  const at = scheduledAt(trigger);
  if (at !== null) return run.zones === null && run.at === at;
  const cron = trigger.cron!;
  if (trigger.timezone !== 'user') return run.zones === null && isCronOccurrence(cron, cronZone(trigger, journey), run.at);
  return run.zones !== null && run.zones.length > 0 && run.zones.every((zone) => isCronOccurrence(cron, zone, run.at));
}

/** Whether the run enters this user: a zoned run everyone, a "user" run those whose zone (else the journey's) is in it. */
export function runIncludesUser(journey: JourneyDefinition, run: ScheduleRun, attributes: Readonly<Record<string, unknown>>): boolean {
  return run.zones === null || run.zones.includes(resolveZone(attributes['timezone'], journey.settings.timezone));
}

/** Whether the run also takes the users without a known zone (they follow the journey's zone). */
export function runIncludesZoneless(journey: JourneyDefinition, run: ScheduleRun): boolean {
  return run.zones !== null && run.zones.includes(resolveZone(undefined, journey.settings.timezone));
}

/** What derives the entry ids of a run: each occurrence enters a user at most once, however often it is retried. */
export function scheduleRunCause(version: number, run: Pick<ScheduleRun, 'at'>): string {
  return `schedule:${version}:${run.at}`;
}

/** A one-time schedule already past is refused when a journey is saved or published (it would run at once). */
export function pastScheduleIssues(journey: { entry?: { trigger?: unknown } }, now: EpochMs): ValidationIssue[] {
  const trigger = journey.entry?.trigger as Partial<ScheduleTrigger> | undefined;
  if (trigger?.type !== 'schedule' || typeof trigger.at !== 'string') return [];
  const at = DateTime.fromISO(trigger.at, { setZone: true });
  if (!at.isValid || at.toMillis() >= now) return [];
  return [{ path: 'entry.trigger.at', message: `is in the past (${trigger.at}): a one-time schedule must be later than now` }];
}
