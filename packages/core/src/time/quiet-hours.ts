import { DateTime } from 'luxon';
import type { EpochMs } from './epoch.js';
import { requireTimeOfDay } from './time-of-day.js';
import { localDatePlusDays, localTimeToInstant } from './wall-clock.js';

export interface QuietHoursWindow {
  /** `HH:mm`, inclusive */
  start: string;
  /** `HH:mm`, exclusive; earlier than `start` means the window crosses midnight */
  end: string;
}

/**
 * The local wall clock of `at` falls in [start, end). A window whose start equals its end is empty.
 */
export function isInQuietHours(at: EpochMs, window: QuietHoursWindow, zone: string): boolean {
  return quietWindowEnd(at, window, zone) !== null;
}

/**
 * When a message due at `dueAt` may go: `dueAt` itself when it is outside the quiet window of the
 * user's zone, else the instant the window ends (e.g. 08:00 the next local morning for 22:00-08:00).
 */
export function applyQuietHours(dueAt: EpochMs, window: QuietHoursWindow, zone: string): EpochMs {
  return quietWindowEnd(dueAt, window, zone) ?? dueAt;
}

function quietWindowEnd(at: EpochMs, window: QuietHoursWindow, zone: string): EpochMs | null {
  const start = requireTimeOfDay(window.start);
  const end = requireTimeOfDay(window.end);
  const startMinute = start.hour * 60 + start.minute;
  const endMinute = end.hour * 60 + end.minute;
  if (startMinute === endMinute) return null;

  const local = DateTime.fromMillis(at, { zone });
  const minuteOfDay = local.hour * 60 + local.minute + (local.second * 1000 + local.millisecond) / 60_000;
  const crossesMidnight = startMinute > endMinute;
  const inside = crossesMidnight
    ? minuteOfDay >= startMinute || minuteOfDay < endMinute
    : minuteOfDay >= startMinute && minuteOfDay < endMinute;
  if (!inside) return null;

  const endsTomorrow = crossesMidnight && minuteOfDay >= startMinute;
  const endLocal = { ...localDatePlusDays(at, zone, endsTomorrow ? 1 : 0), hour: end.hour, minute: end.minute };
  const earlierEnd = localTimeToInstant(endLocal, zone, 'earlier');
  if (earlierEnd > at) return earlierEnd;
  // `at` is in the second pass of a repeated hour, after the first occurrence of the end time.
  const laterEnd = localTimeToInstant(endLocal, zone, 'later');
  return laterEnd > at ? laterEnd : null;
}
