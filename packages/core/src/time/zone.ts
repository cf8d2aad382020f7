import { IANAZone } from 'luxon';

export const DEFAULT_JOURNEY_ZONE = 'UTC';

/**
 * Zones judged so far. Luxon builds an Intl.DateTimeFormat to judge a zone, which costs more than the rest of a
 * user's step; a deployment sees few distinct zones. Bounded, since the names come from user attributes.
 */
const judged = new Map<string, boolean>();
const JUDGED_MAX = 1_000;

export function isValidZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length === 0) return false;
  let valid = judged.get(zone);
  if (valid === undefined) {
    valid = IANAZone.isValidZone(zone);
    if (judged.size >= JUDGED_MAX) judged.clear();
    judged.set(zone, valid);
  }
  return valid;
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
