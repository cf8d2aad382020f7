import { IANAZone } from 'luxon';

export const DEFAULT_JOURNEY_ZONE = 'UTC';

export function isValidZone(zone: unknown): zone is string {
  return typeof zone === 'string' && zone.length > 0 && IANAZone.isValidZone(zone);
}

/**
 * The zone a user's local times are computed in: their own `timezone` attribute when it names a real
 * IANA zone, else the journey's zone (and UTC if even that is unusable, so a decision never throws
 * because of a bad attribute).
 */
export function resolveZone(userZone: unknown, journeyZone: string): string {
  if (isValidZone(userZone)) return userZone;
  if (isValidZone(journeyZone)) return journeyZone;
  return DEFAULT_JOURNEY_ZONE;
}
