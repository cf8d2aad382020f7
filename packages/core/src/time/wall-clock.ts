import { DateTime, IANAZone } from 'luxon';
import type { EpochMs } from './epoch.js';
import { requireTimeOfDay } from './time-of-day.js';

export interface LocalDateTime {
  year: number;
  /** 1-12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

/** Which instant an ambiguous local time (the repeated hour when clocks go back) stands for. */
export type AmbiguousChoice = 'earlier' | 'later';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

function requireZone(zone: string): IANAZone {
  const ianaZone = IANAZone.create(zone);
  if (!ianaZone.isValid) throw new RangeError(`not an IANA time zone: ${JSON.stringify(zone)}`);
  return ianaZone;
}

/**
 * The instant at which the clocks of `zone` read `local`.
 * - A local time skipped by a spring-forward gap maps to the first instant after the gap (the moment
 *   of the change), not luxon's "shift by the gap length".
 * - A local time that happens twice when clocks go back maps to the earlier instant unless `choice`
 *   says otherwise (luxon on its own picks the later one).
 */
export function localTimeToInstant(local: LocalDateTime, zone: string, choice: AmbiguousChoice = 'earlier'): EpochMs {
  const ianaZone = requireZone(zone);
  const wall = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute);
  // Offsets (minutes) on both sides of any transition near this wall time; zones change at most once a day.
  const offsetBefore = ianaZone.offset(wall - DAY_MS);
  const offsetAfter = ianaZone.offset(wall + DAY_MS);
  const candidates = [...new Set([offsetBefore, offsetAfter])]
    .map((offset) => ({ offset, instant: wall - offset * MINUTE_MS }))
    .filter(({ offset, instant }) => ianaZone.offset(instant) === offset)
    .map(({ instant }) => instant)
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first !== undefined) return choice === 'later' ? (candidates[candidates.length - 1] ?? first) : first;

  // A gap: binary-search the transition, the first instant already on the new offset.
  let before = wall - offsetAfter * MINUTE_MS;
  let after = wall - offsetBefore * MINUTE_MS;
  while (after - before > 1) {
    const middle = Math.floor((before + after) / 2);
    if (ianaZone.offset(middle) === offsetBefore) before = middle;
    else after = middle;
  }
  return after;
}

/** The local calendar date `days` after the local date of `at` in `zone`. */
export function localDatePlusDays(at: EpochMs, zone: string, days: number): { year: number; month: number; day: number } {
  const local = DateTime.fromMillis(at, { zone });
  // Plain UTC date arithmetic: local dates have no DST, so this cannot skip or repeat a day.
  const date = new Date(Date.UTC(local.year, local.month - 1, local.day + days));
  return { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
}

/**
 * The next instant strictly after `now` at which the clocks of `zone` read `time` (`HH:mm`).
 * Strictly after, so a `delay until` planned exactly at 09:00 waits for tomorrow's 09:00 rather
 * than firing at once, and a loop through such a delay always moves forward in time.
 * DST: a time inside a spring-forward gap resolves to the end of the gap; a repeated time resolves
 * to its first occurrence (if that has passed, the next day's time is taken).
 */
export function nextWallClockTime(now: EpochMs, time: string, zone: string): EpochMs {
  const { hour, minute } = requireTimeOfDay(time);
  for (let days = 0; days <= 2; days++) {
    const instant = localTimeToInstant({ ...localDatePlusDays(now, zone, days), hour, minute }, zone);
    if (instant > now) return instant;
  }
  throw new Error(`no ${time} in ${zone} within two days of ${now}`);
}
