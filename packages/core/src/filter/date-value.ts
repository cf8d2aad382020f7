import { DateTime } from 'luxon';

// A calendar date must lead the string: luxon alone would read "12" or "2024" as dates.
const DATE_LIKE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

/**
 * The instant a filter operand stands for, when it is a valid `Date` or an ISO 8601 date/date-time
 * string; null otherwise. Strings without an offset are read as UTC so the result never depends on
 * the server's zone.
 */
export function toInstant(value: unknown): number | null {
  if (value instanceof Date) {
    const time = value.getTime();
    return Number.isNaN(time) ? null : time;
  }
  if (typeof value !== 'string' || !DATE_LIKE.test(value)) return null;
  const parsed = DateTime.fromISO(value.replace(' ', 'T'), { zone: 'utc' });
  return parsed.isValid ? parsed.toMillis() : null;
}
