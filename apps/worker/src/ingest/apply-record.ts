import type { Logger } from '@journey/config';
import {
  conversionCounts,
  EXIT_TOKEN,
  planRecord,
  versionKey,
  type IngestRecord,
  type JourneyDefinition,
  type RecordAction,
} from '@journey/core';
import { compareStreamIds, toEntryState, type JourneyStatesRepository, type UsersRepository } from '@journey/mongo';
import type { BranchLock, DueSchedule, Stats } from '@journey/redis';
import { enterUsers } from '../entry/enter-users.js';
import type { ActiveJourneys } from './active-journeys.js';

/** How long an exit's seal stays on the branch lock (default 7 days): longer than any first step waits to run. */
export const DEFAULT_EXIT_SEAL_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export interface RecordApplierDeps {
  users: Pick<UsersRepository, 'getOrCreate' | 'markRecordApplied' | 'revive'>;
  states: Pick<JourneyStatesRepository, 'listForUser' | 'enterMany' | 'get' | 'exit' | 'claimActionEvent' | 'convert'>;
  /** Erases everything held of a user (an `erase` record): see eraseUser. */
  erase: (userId: string, upToRecord: string) => Promise<void>;
  journeys: ActiveJourneys;
  dueSchedule: Pick<DueSchedule, 'schedule'>;
  branchLock: Pick<BranchLock, 'seal'>;
  stats: Pick<Stats, 'increment'>;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  exitSealTtlMs?: number;
}

/** One record of a partition's stream, as the drain read it. */
export interface StreamRecord {
  streamId: string;
  record: IngestRecord;
}

export type ApplyOutcome = 'applied' | 'skipped';

export interface RecordApplier {
  /**
   * Applies one record for its user. Idempotent: re-applying a record (a retried drain) changes nothing twice.
   * The caller applies one user's records one at a time, in stream order.
   */
  apply(entry: StreamRecord): Promise<ApplyOutcome>;
}

/**
 * The order of the writes is what makes a crash anywhere safe:
 * 1. skip the record when its stream id is not after `users.lastRecord` (it was applied completely before);
 * 2. exits: seal the branch lock THEN mark the state exited (a crash between leaves the state active, and
 *    the retry seals and exits again; the other order could let a scheduled step run after the exit);
 * 3. action paths: store the event in the state (claim) THEN schedule the path (the dispatcher never sees a
 *    path whose event is missing; the retry recognises its own claim and schedules again);
 * 4. entries: write the state THEN schedule the first step (the retry finds the entry by its derived id and
 *    schedules the step again if it has not run);
 * 5. mark the record applied, LAST: until then a retry re-applies it, and each step above is a no-op the second time.
 */
export function createRecordApplier(deps: RecordApplierDeps): RecordApplier {
  const sealTtlMs = deps.exitSealTtlMs ?? DEFAULT_EXIT_SEAL_TTL_MS;

  async function carryOut(action: RecordAction, userId: string, now: number, streamId: string): Promise<void> {
    switch (action.kind) {
      case 'convert': {
        // Counted by the write that marked the entry converted: a re-applied record finds it marked and counts nothing.
        const path = await deps.states.convert(action.journeyId, userId, action.entryId, new Date(action.at));
        if (path) await deps.stats.increment(action.journeyId, action.version, conversionCounts(path), now);
        return;
      }
      case 'erase':
        await deps.erase(userId, streamId);
        return;
      case 'exit': {
        await deps.branchLock.seal({ journeyId: action.journeyId, userId, entryId: action.entryId }, EXIT_TOKEN, sealTtlMs);
        const exited = await deps.states.exit(action.journeyId, userId, action.entryId, new Date(now));
        // Counted by the write that ended the entry: a re-applied record finds it ended and counts nothing.
        if (exited && action.stepId !== null)
          await deps.stats.increment(action.journeyId, action.version, [{ stepId: action.stepId, counter: 'exited' }], now);
        return;
      }
      case 'action-path': {
        const claimed = await deps.states.claimActionEvent({
          journeyId: action.journeyId,
          userId,
          entryId: action.entryId,
          awaitingToken: action.awaitingToken,
          recordId: action.recordId,
          name: action.event.name,
          properties: action.event.properties,
          now: new Date(now),
        });
        if (claimed) await deps.dueSchedule.schedule(action.step.branch, action.step.dueSecond, [action.step.member]);
        return;
      }
      case 'enter': {
        await enterUsers(deps, action.journey, [action.entrant], now);
        return;
      }
    }
  }

  return {
    async apply({ streamId, record }) {
      const now = deps.now();
      const user = await deps.users.getOrCreate(record.userId, new Date(now));
      if (user.lastRecord !== null && compareStreamIds(streamId, user.lastRecord) <= 0) return 'skipped';
      // A record after the user's erasure: the app speaks of them again, so they are a user again (a new profile).
      if (user.erased && record.type !== 'erase') await deps.users.revive(record.userId, new Date(now));

      const [stored, active] = await Promise.all([deps.states.listForUser(record.userId), deps.journeys.list()]);
      const states = stored.map(toEntryState);
      const definitions = new Map<string, JourneyDefinition>();
      // Active entries go on; entries not converted yet may still reach their journey's goal.
      await Promise.all(
        states
          .filter((state) => state.status === 'active' || (record.type === 'event' && state.convertedAt === null))
          .map(async (state) => {
            const definition = await deps.journeys.definition(state.journeyId, state.version);
            if (definition) definitions.set(versionKey(state.journeyId, state.version), definition);
          }),
      );

      const plan = planRecord({ streamId, record, attributes: user.attributes, states, definitions, active, now });
      if (plan.problems.length > 0)
        deps.logger.warn({ streamId, userId: record.userId, problems: plan.problems }, 'applying a record passed over stored data');
      if (record.type === 'enter' && !plan.actions.some((action) => action.kind === 'enter')) {
        deps.logger.debug(
          { streamId, userId: record.userId, journeyId: record.journeyId },
          'api entry for a journey that is not an active api journey, or outside its audience',
        );
      }
      for (const action of plan.actions) await carryOut(action, record.userId, now, streamId);
      // The erasure moved the user's record mark past this record itself.
      if (record.type === 'erase') return 'applied';

      if (!(await deps.users.markRecordApplied(record.userId, streamId, new Date(now)))) {
        // Only another applier of the same user could have got here first: the one-drain-per-partition rule was broken.
        deps.logger.warn({ streamId, userId: record.userId }, 'record was marked applied by someone else meanwhile');
      }
      return 'applied';
    },
  };
}
