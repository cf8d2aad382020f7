import type { ActiveJourney, JourneyDefinition } from '@journey/core';
import { CorruptJourneyDocumentError, type JourneysRepository } from '@journey/mongo';
import type { JourneysRevision } from '@journey/redis';

export interface ActiveJourneys {
  /** Every active journey, as of the last `refresh` (loaded on first use). */
  list(): Promise<readonly ActiveJourney[]>;
  /** Any published version, active or not (users finish on the version they entered); null when unknown. */
  definition(journeyId: string, version: number): Promise<JourneyDefinition | null>;
  /**
   * Reloads the list when the journeys' revision moved since it was loaded (a publish, pause, resume or archive
   * answered meanwhile), or when it is older than `maxAgeMs`. Called after reading records and before applying
   * them, so a record accepted after a lifecycle change answered sees that change.
   */
  refresh(): Promise<void>;
}

export interface ActiveJourneysOptions {
  /** Told of an active journey whose stored published version is malformed: it is left out, the others are served. */
  onUnreadable?: (journeyId: string, version: number, error: unknown) => void;
  /** A reload at least this often even when the revision did not move (default 60 s): a safety net, not the rule. */
  maxAgeMs?: number;
  /** A monotonic clock for the list's age only, independent of the engine's (injected) time. */
  clock?: () => number;
  /** Published versions kept in memory (they never change). */
  maxVersions?: number;
}

const PAGE = 100;

/**
 * A process-wide view of the active journeys, so applying a record does not read every journey from MongoDB.
 * Versions are immutable and cached for the life of the process (bounded); the list of which journeys are active,
 * and with which version, is read again only when the journeys' revision moved (or the list grew old). Only active
 * journeys' published definitions are read: drafts, however large, are never loaded here.
 */
export function createActiveJourneys(
  journeys: Pick<JourneysRepository, 'list' | 'findPublishedVersion'>,
  revision: Pick<JourneysRevision, 'current'>,
  options: ActiveJourneysOptions = {},
): ActiveJourneys {
  const maxAgeMs = options.maxAgeMs ?? 60_000;
  const clock = options.clock ?? (() => performance.now());
  const maxVersions = options.maxVersions ?? 1_000;
  const versions = new Map<string, Promise<JourneyDefinition | null>>();
  let current: { loadedAt: number; revision: number; list: Promise<ActiveJourney[]> } | undefined;

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
          const version = journey.activeVersion;
          if (version === null) return null;
          try {
            const found = await definition(journey.id, version);
            return found ? { journeyId: journey.id, version, definition: found } : null;
          } catch (error) {
            // One journey whose stored version does not read (a hand edit, a bug) must not stop every other one; a
            // store that is down fails the load, which is tried again.
            if (!(error instanceof CorruptJourneyDocumentError)) throw error;
            options.onUnreadable?.(journey.id, version, error);
            return null;
          }
        }),
      );
      for (const each of loaded) if (each) active.push(each);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return active;
  }

  function reload(seen: number): Promise<ActiveJourney[]> {
    const loading = { loadedAt: clock(), revision: seen, list: load() };
    // A failed load is not served again: the caller's job fails and its retry reads anew.
    loading.list.catch(() => {
      if (current === loading) current = undefined;
    });
    current = loading;
    return loading.list;
  }

  return {
    async list() {
      return (current ?? { list: reload(await revision.current()) }).list;
    },
    definition,
    async refresh() {
      // Read before the list: a change that lands in between is seen by the next refresh, never missed.
      const seen = await revision.current();
      if (current && current.revision === seen && clock() - current.loadedAt < maxAgeMs) return;
      await reload(seen);
    },
  };
}
