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

/** Whether the user must leave the journey now: the event is an exit event or they match `exit.when`. */
export function shouldExit(exit: JourneyExit | undefined, user: Readonly<Record<string, unknown>>, event?: JourneyEvent): boolean {
  if (exit === undefined) return false;
  if (event !== undefined && (exit.events ?? []).includes(event.name)) return true;
  return exit.when !== undefined && evaluateFilter(exit.when, { user, event: event?.properties });
}
