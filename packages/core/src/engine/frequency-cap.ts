import type { FrequencyCap } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { subtractIsoDuration } from '../time/duration.js';

/** The start of the trailing window that counts against the cap: sends after it, up to now, count. */
export function frequencyCapWindowStart(cap: FrequencyCap, now: EpochMs): EpochMs {
  return subtractIsoDuration(now, cap.per);
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
