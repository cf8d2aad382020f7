import { entryIdFor, FIRST_STEP_TOKEN, firstStep } from '@journey/core';
import type { JourneyStatesRepository } from '@journey/mongo';
import type { DueSchedule } from '@journey/redis';
import type { PublishedJourney } from './bench-journey.js';
import { inChunks } from './progress.js';

/** The i-th benchmark user: a 12-character id, and the entry id the engine derives for its entry (12 characters). */
export function benchUser(journeyId: string, index: number): { userId: string; entryId: string } {
  const userId = `user-${index.toString().padStart(7, '0')}`;
  return { userId, entryId: entryIdFor(journeyId, `bench:${userId}`) };
}

/**
 * Enters users 0..n-1 as apps/worker's enterUsers does for users never in the journey: their states in bulk
 * (`enterMany`, one unordered insertMany per chunk), at the first step with the first token.
 */
export async function enterStates(states: JourneyStatesRepository, journey: PublishedJourney, n: number, now: number): Promise<number> {
  return inChunks('entering users (MongoDB)', n, 1_000, async (first, end) => {
    const inputs = [];
    for (let index = first; index < end; index++) {
      const { userId, entryId } = benchUser(journey.journeyId, index);
      inputs.push({
        journeyId: journey.journeyId,
        userId,
        version: journey.version,
        entryId,
        stepId: journey.definition.start,
        token: FIRST_STEP_TOKEN,
        trigger: null,
        now: new Date(now),
      });
    }
    const results = await states.enterMany(inputs);
    const notEntered = results.filter((result) => result !== 'entered').length;
    if (notEntered > 0) throw new Error(`${notEntered} users were not entered`);
  });
}

/**
 * Schedules the first step of users 0..n-1 into one due second with the real `createDueSchedule(...).schedule`
 * (members grouped by branch and second as enterUsers does; the schedule call groups them by shard).
 */
export async function scheduleFirstSteps(
  dueSchedule: DueSchedule,
  journey: PublishedJourney,
  n: number,
  dueSecond: number,
): Promise<number> {
  return inChunks('scheduling first steps (Redis)', n, 10_000, async (first, end) => {
    const members = [];
    for (let index = first; index < end; index++) {
      const { userId, entryId } = benchUser(journey.journeyId, index);
      members.push(firstStep(journey.journeyId, journey.version, journey.definition.start, userId, entryId, dueSecond * 1000).member);
    }
    const added = await dueSchedule.schedule(
      { journeyId: journey.journeyId, version: journey.version, stepId: journey.definition.start },
      dueSecond,
      members,
    );
    if (added !== members.length) throw new Error(`scheduled ${added} of ${members.length} members`);
  });
}
