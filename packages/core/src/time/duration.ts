import { DateTime, Duration } from 'luxon';
import type { EpochMs } from './epoch.js';

/**
 * ISO 8601 durations with non-negative components, e.g. `PT5S`, `PT1H30M`, `P1D`, `P2W`. Stricter than luxon,
 * which also accepts `P`, `PT` and `P1DT` and signed components; each number has at most 20 digits and a
 * fraction at most 9, within what luxon reads, so every duration this matches parses.
 */
const NUMBER = String.raw`\d{1,20}(?:[.,]\d{1,9})?`;
export const ISO_DURATION_PATTERN = new RegExp(
  `^P(?!$)(?:${NUMBER}Y)?(?:${NUMBER}M)?(?:${NUMBER}W)?(?:${NUMBER}D)?(?:T(?=\\d)(?:${NUMBER}H)?(?:${NUMBER}M)?(?:${NUMBER}S)?)?$`,
);

/**
 * The longest duration a journey may hold (delays, action windows, frequency-cap periods, re-entry periods):
 * 10 years, compared as luxon compares durations of mixed units (a year is 365 days, a month 30). Added to any
 * instant a journey can run at, it stays far inside the dates luxon, JavaScript and the stores handle.
 */
export const MAX_DURATION = Duration.fromObject({ years: 10 });
export const MAX_DURATION_ISO = 'P10Y';

/** The duration, or null when `iso` is not a well-formed non-negative ISO 8601 duration. */
export function parseIsoDuration(iso: string): Duration | null {
  if (!ISO_DURATION_PATTERN.test(iso)) return null;
  const duration = Duration.fromISO(iso.replaceAll(',', '.'));
  return duration.isValid ? duration : null;
}

export function isPositiveIsoDuration(iso: string): boolean {
  const duration = parseIsoDuration(iso);
  return duration !== null && duration.toMillis() > 0;
}

/** Whether a duration is at most {@link MAX_DURATION}; false for anything that is not a duration. */
export function isWithinMaxDuration(iso: string): boolean {
  const duration = parseIsoDuration(iso);
  return duration !== null && duration.toMillis() <= MAX_DURATION.toMillis();
}

function requireDuration(iso: string): Duration {
  const duration = parseIsoDuration(iso);
  if (duration === null) throw new RangeError(`not an ISO 8601 duration: ${JSON.stringify(iso)}`);
  return duration;
}

/**
 * `at` plus the duration. Calendar units (days, weeks, months, years) are added on the wall clock of
 * `zone`, so `P1D` from 09:00 is 09:00 the next local day even across a DST change; clock units
 * (hours, minutes, seconds) are exact elapsed time.
 * @throws RangeError when `iso` is not a duration (journeys are validated before they get here).
 */
export function addIsoDuration(at: EpochMs, iso: string, zone = 'UTC'): EpochMs {
  return inRange(DateTime.fromMillis(at, { zone }).plus(requireDuration(iso)), iso);
}

/** `at` minus the duration, with the same calendar rules as {@link addIsoDuration}. */
export function subtractIsoDuration(at: EpochMs, iso: string, zone = 'UTC'): EpochMs {
  return inRange(DateTime.fromMillis(at, { zone }).minus(requireDuration(iso)), iso);
}

/** An instant past what dates can hold is an error, never NaN handed on to schedule with. */
function inRange(result: DateTime, iso: string): EpochMs {
  const ms = result.toMillis();
  if (!Number.isFinite(ms)) throw new RangeError(`${JSON.stringify(iso)} reaches past the range of dates`);
  return ms;
}
