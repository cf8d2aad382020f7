import { DateTime, Duration } from 'luxon';
import type { EpochMs } from './epoch.js';

/**
 * ISO 8601 durations with non-negative components, e.g. `PT5S`, `PT1H30M`, `P1D`, `P2W`.
 * Stricter than luxon, which also accepts `P`, `PT` and `P1DT` and signed components.
 */
export const ISO_DURATION_PATTERN =
  /^P(?!$)(?:\d+(?:[.,]\d+)?Y)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?W)?(?:\d+(?:[.,]\d+)?D)?(?:T(?=\d)(?:\d+(?:[.,]\d+)?H)?(?:\d+(?:[.,]\d+)?M)?(?:\d+(?:[.,]\d+)?S)?)?$/;

/** The duration, or null when `iso` is not a well-formed non-negative ISO 8601 duration. */
export function parseIsoDuration(iso: string): Duration | null {
  if (!ISO_DURATION_PATTERN.test(iso)) return null;
  const duration = Duration.fromISO(iso.replace(',', '.'));
  return duration.isValid ? duration : null;
}

export function isPositiveIsoDuration(iso: string): boolean {
  const duration = parseIsoDuration(iso);
  return duration !== null && duration.toMillis() > 0;
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
