import { entryIdFor, FIRST_STEP_TOKEN, firstStep } from '@journey/core';
import { createJourneyStatesRepository, createUsersRepository } from '@journey/mongo';
import type { Db } from 'mongodb';
import type { DueSchedule } from '@journey/redis';
import type { PublishedJourney } from './bench-journey.js';
import { inChunks } from './progress.js';

/** The i-th benchmark user: a 12-character id, and the entry id the engine derives for its entry (12 characters). */
export function benchUser(journeyId: string, index: number): { userId: string; entryId: string } {
  const userId = `user-${index.toString().padStart(7, '0')}`;
  return { userId, entryId: entryIdFor(journeyId, `bench:${userId}`) };
}

/**
 * Enters users 0..n-1 as apps/worker's enterUsers does for users never in the journey: their user documents (as an
 * event creates them: a user the dispatcher does not find is erased, and gets nothing) and their states in bulk
 * (`createMany` and `enterMany`, one unordered insertMany each per chunk), at the first step with the first token.
 */
export async function enterUsers(db: Db, journey: PublishedJourney, n: number, now: number): Promise<number> {
  const states = createJourneyStatesRepository(db);
  const users = createUsersRepository(db);
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
    await users.createMany(
      inputs.map((input) => input.userId),
      new Date(now),
    );
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
