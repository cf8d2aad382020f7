import type { JourneyDefinition } from '@journey/core';
import type { JourneyStatus, JourneysRepository } from '@journey/mongo';
import type { JourneysRevision } from '@journey/redis';

/** What dispatch needs of a journey: a version's definition (immutable) and the journey's status (changes). */
export interface JourneyCatalog {
  definition(journeyId: string, version: number): Promise<JourneyDefinition | null>;
  /**
   * The journey's status; null when the journey does not exist. A lifecycle change that answered before this call
   * is seen (the journeys' revision moved); otherwise the status may be up to `statusTtlMs` old.
   */
  status(journeyId: string): Promise<JourneyStatus | null>;
}

/**
 * Published versions never change, so they are cached for the life of the process (bounded). Statuses are cached
 * until the journeys' revision moves (every publish, pause, resume and archive bumps it), or for `statusTtlMs` at
 * most (default 60 s, a safety net): a batch that starts after a pause answered sends nothing.
 */
export function createJourneyCatalog(
  journeys: Pick<JourneysRepository, 'get' | 'findPublishedVersion'>,
  revision: Pick<JourneysRevision, 'current'>,
  options: { statusTtlMs?: number; now?: () => number; maxVersions?: number } = {},
): JourneyCatalog {
  const statusTtlMs = options.statusTtlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const maxVersions = options.maxVersions ?? 1_000;
  const versions = new Map<string, Promise<JourneyDefinition | null>>();
  const statuses = new Map<string, { at: number; revision: number; status: Promise<JourneyStatus | null> }>();

  return {
    definition(journeyId, version) {
      const key = `${journeyId}:${version}`;
      let cached = versions.get(key);
      if (!cached) {
        cached = journeys.findPublishedVersion(journeyId, version).then((found) => found?.definition ?? null);
        // A miss or an error is not kept: the next batch asks again.
        cached.then(
          (definition) => definition ?? versions.delete(key),
          () => versions.delete(key),
        );
        if (versions.size >= maxVersions) versions.delete(versions.keys().next().value as string);
        versions.set(key, cached);
      }
      return cached;
    },
    async status(journeyId) {
      const seen = await revision.current();
      const cached = statuses.get(journeyId);
      if (cached && cached.revision === seen && now() - cached.at < statusTtlMs) return cached.status;
      const status = journeys.get(journeyId).then((journey) => journey?.status ?? null);
      status.catch(() => statuses.delete(journeyId));
      statuses.set(journeyId, { at: now(), revision: seen, status });
      return status;
    },
  };
}
