import type { JourneysRepository } from '@journey/mongo';
import { enterRecord, type Ingest, type NotStored } from './ingest.js';

export type EnterOutcome =
  | { ok: true; accepted: number }
  | { ok: false; reason: 'not_found' | 'conflict'; message: string }
  | { ok: false; reason: 'unavailable'; stored: NotStored };

export interface EntriesService {
  /**
   * Appends one `enter` record per distinct user to the users' partitions, when the journey is active and its
   * active version has an `api` trigger. Whether each user actually enters is decided when the record is applied
   * (never twice at once, `reentry`), in order with the user's events.
   */
  enter(journeyId: string, userIds: readonly string[]): Promise<EnterOutcome>;
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
    async enter(journeyId, userIds) {
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
      const distinct = [...new Set(userIds)];
      const outcome = await ingest.append(distinct.map((userId) => enterRecord(journeyId, userId, at)));
      return outcome.ok ? { ok: true, accepted: outcome.results.length } : { ok: false, reason: 'unavailable', stored: outcome.stored };
    },
  };
}
