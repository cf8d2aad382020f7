import type { JourneyDefinition } from '@journey/core';
import type { JourneyStatus, JourneysRepository } from '@journey/mongo';

/** What dispatch needs of a journey: a version's definition (immutable) and the journey's status (changes). */
export interface JourneyCatalog {
  definition(journeyId: string, version: number): Promise<JourneyDefinition | null>;
  /** The journey's status, at most `statusTtlMs` old; null when the journey does not exist. */
  status(journeyId: string): Promise<JourneyStatus | null>;
}

/**
 * Published versions never change, so they are cached for the life of the process (bounded); the status is
 * cached briefly, which bounds how long a pause takes to stop sends in every worker (default 1 s).
 */
export function createJourneyCatalog(
  journeys: Pick<JourneysRepository, 'get' | 'findPublishedVersion'>,
  options: { statusTtlMs?: number; now?: () => number; maxVersions?: number } = {},
): JourneyCatalog {
  const statusTtlMs = options.statusTtlMs ?? 1_000;
  const now = options.now ?? Date.now;
  const maxVersions = options.maxVersions ?? 1_000;
  const versions = new Map<string, Promise<JourneyDefinition | null>>();
  const statuses = new Map<string, { at: number; status: Promise<JourneyStatus | null> }>();

  return {
    definition(journeyId, version) {
      const key = `${journeyId}:${version}`;
      let cached = versions.get(key);
      if (!cached) {
        cached = journeys.findPublishedVersion(journeyId, version).then((found) => found?.definition ?? null);
        // A miss or an error is not kept: the next batch asks again.
        cached.then((definition) => definition ?? versions.delete(key), () => versions.delete(key));
        if (versions.size >= maxVersions) versions.delete(versions.keys().next().value as string);
        versions.set(key, cached);
      }
      return cached;
    },
    status(journeyId) {
      const cached = statuses.get(journeyId);
      if (cached && now() - cached.at < statusTtlMs) return cached.status;
      const status = journeys.get(journeyId).then((journey) => journey?.status ?? null);
      status.catch(() => statuses.delete(journeyId));
      statuses.set(journeyId, { at: now(), status });
      return status;
    },
  };
}
