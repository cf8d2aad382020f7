import type { FrequencyCap } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { subtractIsoDuration } from '../time/duration.js';

/**
 * How far back a cap counts at most: the engine remembers a user's sends this long (a month, as journey engines
 * commonly allow), so that memory stays bounded by recent sends.
 */
export const FREQUENCY_CAP_LOOKBACK_MS = 31 * 24 * 60 * 60 * 1000;

/** The start of the trailing window that counts against the cap: sends after it, up to now, count. */
export function frequencyCapWindowStart(cap: FrequencyCap, now: EpochMs): EpochMs {
  const lookback = now - FREQUENCY_CAP_LOOKBACK_MS;
  try {
    return Math.max(subtractIsoDuration(now, cap.per), lookback);
  } catch (error) {
    // A period reaching past the range of dates counts as far back as the history goes.
    if (error instanceof RangeError) return lookback;
    throw error;
  }
}

/**
 * Whether one more message would exceed the cap: `cap.messages` sends already happened in
 * (now - per, now]. No cap means never capped. A send exactly `per` ago no longer counts.
 */
export function isFrequencyCapped(sentAt: readonly EpochMs[], cap: FrequencyCap | undefined, now: EpochMs): boolean {
  if (cap === undefined) return false;
  const windowStart = frequencyCapWindowStart(cap, now);
  let count = 0;
  for (const sent of sentAt) if (sent > windowStart && sent <= now) count++;
  return count >= cap.messages;
}
