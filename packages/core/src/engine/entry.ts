import { evaluateFilter } from '../filter/evaluate.js';
import type { JourneyEntry, JourneyExit, Reentry, Trigger } from '../journey/schema.js';
import { addIsoDuration } from '../time/duration.js';
import type { EpochMs } from '../time/epoch.js';
import type { JourneyEvent } from './action-paths.js';

/** Whether this event enters users into a journey with this trigger (name and `where` match). */
export function triggerMatchesEvent(trigger: Trigger, event: JourneyEvent, user: Readonly<Record<string, unknown>> = {}): boolean {
  if (trigger.type !== 'event' || trigger.event !== event.name) return false;
  return trigger.where === undefined || evaluateFilter(trigger.where, { user, event: event.properties ?? {} });
}

/** Whether the user belongs to the journey's audience; no audience means everyone. */
export function isInAudience(
  entry: Pick<JourneyEntry, 'audience'>,
  user: Readonly<Record<string, unknown>>,
  event?: JourneyEvent,
): boolean {
  return entry.audience === undefined || evaluateFilter(entry.audience, { user, event: event?.properties });
}

/**
 * Whether a user whose last entry began at `lastEnteredAt` (null: never entered) may enter again now.
 * Whether they are still inside the journey is for the caller to check.
 */
export function mayReenter(reentry: Reentry, lastEnteredAt: EpochMs | null, now: EpochMs): boolean {
  if (lastEnteredAt === null) return true;
  if (reentry.mode === 'never') return false;
  return now >= addIsoDuration(lastEnteredAt, reentry.after);
}

/** The trigger name an API entry's properties are kept under (read as `event.*`, like a trigger event's). */
export const API_ENTRY = 'api';

/** What causes an entry: an event, an API call (with its properties), or a schedule run. */
export type EntryCause =
  { kind: 'event'; event: JourneyEvent } | { kind: 'api'; properties?: JourneyEvent['properties'] } | { kind: 'schedule' };

/** Why a user would not enter: the trigger does not match, they are outside the audience, or would exit at once. */
export type EntryRefusal = 'trigger' | 'audience' | 'exit';

/**
 * Whether this cause enters the user into the journey, and if not why (re-entry and whether they are inside already
 * are the caller's to check). A user who matches the exit criteria would leave at once: they do not enter.
 */
export function entryRefusal(
  journey: { entry: JourneyEntry; exit?: JourneyExit | undefined },
  cause: EntryCause,
  user: Readonly<Record<string, unknown>>,
): EntryRefusal | null {
  const { entry, exit } = journey;
  switch (cause.kind) {
    case 'event':
      if (!triggerMatchesEvent(entry.trigger, cause.event, user)) return 'trigger';
      if (!isInAudience(entry, user, cause.event)) return 'audience';
      return shouldExit(exit, user, cause.event) ? 'exit' : null;
    case 'api':
      if (entry.trigger.type !== 'api') return 'trigger';
      if (!isInAudience(entry, user, { name: API_ENTRY, properties: cause.properties })) return 'audience';
      return shouldExit(exit, user) ? 'exit' : null;
    case 'schedule':
      if (entry.trigger.type !== 'schedule') return 'trigger';
      if (!isInAudience(entry, user)) return 'audience';
      return shouldExit(exit, user) ? 'exit' : null;
  }
}

/** Whether the user must leave the journey now: the event is an exit event or they match `exit.when`. */
export function shouldExit(exit: JourneyExit | undefined, user: Readonly<Record<string, unknown>>, event?: JourneyEvent): boolean {
  if (exit === undefined) return false;
  if (event !== undefined && (exit.events ?? []).includes(event.name)) return true;
  return exit.when !== undefined && evaluateFilter(exit.when, { user, event: event?.properties });
}
