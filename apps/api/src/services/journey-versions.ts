import { validateJourney, type JourneyDefinition } from '@journey/core';
import type { Journey, JourneysRepository } from '@journey/mongo';
import { HttpError } from '../plugins/error-handler.js';

/** A version of a journey to look at or try: a published one, or the draft (validated). */
export interface JourneyVersionView {
  journey: Journey;
  version: number | 'draft';
  definition: JourneyDefinition;
}

/**
 * Finds the version of a journey that a read-only view (the map, a simulation, a test send) is about: the one asked
 * for, or the one worth seeing: the active version, else the latest published, else the draft. `404` for a journey
 * or version that does not exist; `409` for a draft that is not valid (its problems listed).
 */
export function createJourneyVersions(journeys: Pick<JourneysRepository, 'get' | 'findPublishedVersion'>) {
  async function journeyOf(id: string): Promise<Journey> {
    const journey = await journeys.get(id);
    if (!journey) throw new HttpError(404, `Journey ${id} not found`);
    return journey;
  }

  async function published(journey: Journey, version: number): Promise<JourneyVersionView> {
    const found = await journeys.findPublishedVersion(journey.id, version);
    if (!found) throw new HttpError(404, `Journey ${journey.id} has no published version ${version}`);
    return { journey, version, definition: found.definition };
  }

  function draft(journey: Journey, purpose: string): JourneyVersionView {
    if (!journey.draft) throw new HttpError(404, `Journey ${journey.id} has no draft`);
    const validation = validateJourney(journey.draft.definition);
    if (!validation.ok)
      throw new HttpError(409, `The draft of journey ${journey.id} is not valid: fix it to ${purpose}`, validation.issues);
    return { journey, version: 'draft', definition: validation.journey };
  }

  return {
    journeyOf,
    published,
    /** `purpose` ends the message of an invalid draft: "fix it to <purpose>". */
    async view(id: string, asked: number | 'draft' | undefined, purpose: string): Promise<JourneyVersionView> {
      const journey = await journeyOf(id);
      const version = asked ?? journey.activeVersion ?? (journey.latestVersion > 0 ? journey.latestVersion : 'draft');
      return version === 'draft' ? draft(journey, purpose) : published(journey, version);
    },
  };
}

export type JourneyVersions = ReturnType<typeof createJourneyVersions>;
