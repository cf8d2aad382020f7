import { Cron } from 'croner';
import type { EpochMs } from './epoch.js';

/**
 * Recurring schedules, as five-field cron patterns (minute hour day-of-month month day-of-week), read by croner in
 * an IANA zone: `0 9 * * 1` in `Europe/Berlin` is every Monday at 09:00 Berlin time, whatever the season.
 */

const FIELDS = 5;

/** Parsed patterns by text: a check every few seconds asks for the same few patterns again and again. */
const parsed = new Map<string, Cron>();
const PARSED_MAX = 1_000;

function cronIn(pattern: string, zone: string): Cron {
  const key = `${zone} ${pattern}`;
  let cron = parsed.get(key);
  if (!cron) {
    // legacyMode: a day-of-month and a day-of-week both given match either, as classic cron reads them.
    cron = new Cron(pattern, { timezone: zone, legacyMode: true });
    if (parsed.size >= PARSED_MAX) parsed.clear();
    parsed.set(key, cron);
  }
  return cron;
}

/** What is wrong with a pattern (null: none). Seconds and years are refused: a journey runs at most once a minute. */
export function cronProblem(pattern: string): string | null {
  const fields = pattern.trim().split(/\s+/);
  if (fields.length !== FIELDS) {
    return `must have 5 fields (minute hour day-of-month month day-of-week), like "0 9 * * 1", not ${fields.length}`;
  }
  try {
    const cron = cronIn(pattern, 'UTC');
    if (cron.nextRun(new Date(0)) === null) return 'never fires';
    return null;
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).replace(/^CronPattern: /, '');
  }
}

/** The first occurrence strictly after `after` in `zone`; null when the pattern never fires again. */
export function nextCronOccurrence(pattern: string, zone: string, after: EpochMs): EpochMs | null {
  return cronIn(pattern, zone).nextRun(new Date(after))?.getTime() ?? null;
}

/** Whether `at` is an occurrence of the pattern in `zone` (a run checks its own instant before it enters anyone). */
export function isCronOccurrence(pattern: string, zone: string, at: EpochMs): boolean {
  return nextCronOccurrence(pattern, zone, at - 1) === at;
}
