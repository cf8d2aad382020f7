import type { JourneySettings } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { applyQuietHours } from '../time/quiet-hours.js';
import { resolveZone } from '../time/zone.js';

/**
 * When a message that is due `at` may actually go: `at` itself, or the end of the journey's quiet
 * hours as observed in the user's zone (their `timezone` attribute when valid, else the journey's).
 */
export function allowedSendTime(settings: Pick<JourneySettings, 'timezone' | 'quietHours'>, userTimezone: unknown, at: EpochMs): EpochMs {
  if (settings.quietHours === undefined) return at;
  return applyQuietHours(at, settings.quietHours, resolveZone(userTimezone, settings.timezone));
}
