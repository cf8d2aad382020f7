import type { JourneysRepository } from '@journey/mongo';
import type { JsonObject } from '@journey/core';
import { enterRecord, type Ingest, type NotStored } from './ingest.js';

/** One user to enter, with the properties templates read as `event.*`, and the caller's id for the entry. */
export interface EntryRequest {
  userId: string;
  properties?: JsonObject | undefined;
  id?: string | undefined;
}

export type EnterOutcome =
  | { ok: true; accepted: number; duplicates: number }
  | { ok: false; reason: 'not_found' | 'conflict'; message: string }
  | { ok: false; reason: 'unavailable'; stored: NotStored };

export interface EntriesService {
  /**
   * Appends one `enter` record per distinct user to the users' partitions, when the journey is active and its
   * active version has an `api` trigger. Whether each user actually enters is decided when the record is applied
   * (never twice at once, `reentry`), in order with the user's events.
   */
  enter(journeyId: string, entries: readonly EntryRequest[]): Promise<EnterOutcome>;
}

export function createEntriesService({
  journeys,
  ingest,
  now = Date.now,
}: {
  journeys: Pick<JourneysRepository, 'get' | 'findPublishedVersion'>;
  ingest: Ingest;
  now?: () => number;
}): EntriesService {
  return {
    async enter(journeyId, entries) {
      const journey = await journeys.get(journeyId);
      if (!journey) return { ok: false, reason: 'not_found', message: `Journey ${journeyId} not found` };
      if (journey.status !== 'active' || journey.activeVersion === null) {
        return {
          ok: false,
          reason: 'conflict',
          message: `Cannot enter users into journey ${journeyId}: it is ${journey.status}, and only an active journey takes entries`,
        };
      }
      const version = await journeys.findPublishedVersion(journeyId, journey.activeVersion);
      if (!version) {
        return {
          ok: false,
          reason: 'conflict',
          message: `Cannot enter users into journey ${journeyId}: its active version ${journey.activeVersion} is not published`,
        };
      }
      const { type } = version.definition.entry.trigger;
      if (type !== 'api') {
        return {
          ok: false,
          reason: 'conflict',
          message: `Cannot enter users into journey ${journeyId} through the API: version ${version.version} has a "${type}" trigger, and only an "api" trigger takes entries this way`,
        };
      }
      const at = now();
      const outcome = await ingest.append(entries.map((entry) => enterRecord(journeyId, entry, at)));
      if (!outcome.ok) return { ok: false, reason: 'unavailable', stored: outcome.stored };
      const duplicates = outcome.results.filter((result) => result.status === 'duplicate').length;
      return { ok: true, accepted: outcome.results.length - duplicates, duplicates };
    },
  };
}
