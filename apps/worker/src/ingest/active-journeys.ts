import type { JourneyDefinition } from '@journey/core';
import type { JourneysRepository } from '@journey/mongo';

/** An active journey and the definition of the version new entries use. */
export interface ActiveJourney {
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
}

export interface ActiveJourneys {
  /** Every active journey, as of at most `maxAgeMs` ago. */
  list(): Promise<readonly ActiveJourney[]>;
  /** Any published version, active or not (users finish on the version they entered); null when unknown. */
  definition(journeyId: string, version: number): Promise<JourneyDefinition | null>;
}

export interface ActiveJourneysOptions {
  /** How stale the list may be (default 1 s): the bound on how long a publish or pause takes to reach entries. */
  maxAgeMs?: number;
  /** A monotonic clock for the cache age only, independent of the engine's (injected) time. */
  clock?: () => number;
  /** Published versions kept in memory (they never change). */
  maxVersions?: number;
}

const PAGE = 100;

/**
 * A short-lived, process-wide view of the active journeys, so applying a record does not read every journey
 * from MongoDB. Versions are immutable and cached for the life of the process (bounded); the list of which
 * journeys are active, and with which version, is read again once it is older than `maxAgeMs`.
 */
export function createActiveJourneys(
  journeys: Pick<JourneysRepository, 'list' | 'findPublishedVersion'>,
  options: ActiveJourneysOptions = {},
): ActiveJourneys {
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  const clock = options.clock ?? (() => performance.now());
  const maxVersions = options.maxVersions ?? 1_000;
  const versions = new Map<string, Promise<JourneyDefinition | null>>();
  let current: { loadedAt: number; list: Promise<ActiveJourney[]> } | undefined;

  function definition(journeyId: string, version: number): Promise<JourneyDefinition | null> {
    const key = `${journeyId}:${version}`;
    let cached = versions.get(key);
    if (!cached) {
      cached = journeys.findPublishedVersion(journeyId, version).then((found) => found?.definition ?? null);
      // A miss or a failure is not kept: the next call asks again.
      cached.then(
        (found) => found ?? versions.delete(key),
        () => versions.delete(key),
      );
      if (versions.size >= maxVersions) versions.delete(versions.keys().next().value as string);
      versions.set(key, cached);
    }
    return cached;
  }

  async function load(): Promise<ActiveJourney[]> {
    const active: ActiveJourney[] = [];
    let cursor: string | undefined;
    do {
      const page = await journeys.list({ status: 'active', limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
      const loaded = await Promise.all(
        page.journeys.map(async (journey) => {
          if (journey.activeVersion === null) return null;
          const found = await definition(journey.id, journey.activeVersion);
          return found ? { journeyId: journey.id, version: journey.activeVersion, definition: found } : null;
        }),
      );
      for (const each of loaded) if (each) active.push(each);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return active;
  }

  function snapshot(): Promise<ActiveJourney[]> {
    if (!current || clock() - current.loadedAt >= maxAgeMs) {
      const loading = { loadedAt: clock(), list: load() };
      // A failed load is not served again: the caller's job fails and its retry reads anew.
      loading.list.catch(() => {
        if (current === loading) current = undefined;
      });
      current = loading;
    }
    return current.list;
  }

  return {
    list: snapshot,
    definition,
  };
}
