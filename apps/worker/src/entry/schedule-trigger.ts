import type { Logger } from '@journey/config';
import {
  entryRefusal,
  entryIdFor,
  isScheduleRun,
  KNOWN_ZONES,
  runIncludesUser,
  runIncludesZoneless,
  scheduleRunCause,
  upcomingScheduleRuns,
  type Entrant,
} from '@journey/core';
import { toEntryState, type JourneysRepository, type JourneyStatesRepository, type UsersRepository } from '@journey/mongo';
import { ScheduleRunJobSchema, type DueSchedule, type Keys, type ScheduleQueue, type Stats } from '@journey/redis';
import type { ConnectionOptions, Job, Worker } from 'bullmq';
import { EngineWorker } from '../engine-worker.js';
import { z } from 'zod';
import type { ActiveJourneys } from '../ingest/active-journeys.js';
import { jobLockOptions } from '../job-lock.js';
import { processJob } from '../process-job.js';
import { startPeriodic, type Periodic } from '../periodic.js';
import { enterUsers } from './enter-users.js';

export const DEFAULT_SCHEDULE_PAGE_SIZE = 1_000;

export interface ScheduleRunDeps {
  journeys: Pick<JourneysRepository, 'get' | 'findPublishedVersion'>;
  users: Pick<UsersRepository, 'page' | 'pageInZones'>;
  states: Pick<JourneyStatesRepository, 'listForJourney' | 'enterMany' | 'get'>;
  dueSchedule: Pick<DueSchedule, 'schedule'>;
  stats: Pick<Stats, 'increment'>;
  logger: Logger;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Users read per page (default 1,000). */
  pageSize?: number;
}

export interface ScheduleRunResult {
  /** Why nothing was entered, when the run no longer applies. */
  skipped?: string;
  pages: number;
  users: number;
  matched: number;
  entered: number;
  scheduled: number;
}

/** Progress saved after each page: a retried run resumes after the last user it finished. */
const ProgressSchema = z.object({ after: z.string() });

/**
 * The run of a `schedule` trigger: walks the users by id in pages (a "user"-zoned run only those of its zones, by
 * the index on the zone), and enters each audience match (state writes, then one bulk schedule of first steps per
 * page). The entry id derives from (journey, version, run instant), so a retried run finds the entries it made and
 * only re-schedules first steps that have not run, and each occurrence enters a user at most once (`reentry`
 * decides between occurrences). A run whose journey is no longer active on that version, or that is no occurrence
 * of its trigger any more, enters nobody.
 */
export function createScheduleRunProcessor(deps: ScheduleRunDeps): (job: Job) => Promise<ScheduleRunResult> {
  const pageSize = deps.pageSize ?? DEFAULT_SCHEDULE_PAGE_SIZE;

  return processJob('schedule', ScheduleRunJobSchema, async ({ journeyId, version, at, zones }, job) => {
    const result: ScheduleRunResult = { pages: 0, users: 0, matched: 0, entered: 0, scheduled: 0 };

    const journey = await deps.journeys.get(journeyId);
    if (!journey || journey.status !== 'active' || journey.activeVersion !== version) {
      return {
        ...result,
        skipped: `journey ${journeyId} is ${journey ? `${journey.status} on version ${journey.activeVersion}` : 'unknown'}`,
      };
    }
    const definition = (await deps.journeys.findPublishedVersion(journeyId, version))?.definition;
    const run = { at, zones: zones ?? null };
    if (!definition || !isScheduleRun(definition, run)) {
      return { ...result, skipped: `version ${version} of journey ${journeyId} has no schedule run at ${new Date(at).toISOString()}` };
    }
    const active = { journeyId, version, definition };
    const entryId = entryIdFor(journeyId, scheduleRunCause(version, run));
    const zoneless = runIncludesZoneless(definition, run) ? KNOWN_ZONES : null;

    const progress = ProgressSchema.safeParse(job.progress);
    let after: string | null = progress.success ? progress.data.after : null;
    for (;;) {
      const page = run.zones ? await deps.users.pageInZones(after, pageSize, run.zones, zoneless) : await deps.users.page(after, pageSize);
      if (page.length === 0) break;
      result.pages++;
      result.users += page.length;
      const matches = page.filter(
        (user) =>
          runIncludesUser(definition, run, user.attributes) && entryRefusal(definition, { kind: 'schedule' }, user.attributes) === null,
      );
      const current = new Map(
        (
          await deps.states.listForJourney(
            journeyId,
            matches.map((user) => user.userId),
          )
        ).map((state) => [state.userId, toEntryState(state)]),
      );
      const entrants: Entrant[] = matches.map((user) => ({
        userId: user.userId,
        entryId,
        trigger: null,
        current: current.get(user.userId) ?? null,
      }));
      const outcome = await enterUsers(deps, active, entrants, deps.now());
      result.matched += matches.length;
      result.entered += outcome.entered;
      result.scheduled += outcome.scheduled;
      after = page.at(-1)!.userId;
      await job.updateProgress({ after });
      if (page.length < pageSize) break;
    }
    deps.logger.info({ journeyId, version, ...result }, 'schedule trigger ran');
    return result;
  });
}

export interface ScheduleWorkerOptions extends ScheduleRunDeps {
  keys: Keys;
  connection: ConnectionOptions;
  concurrency: number;
  /** BullMQ job lock and stalled-check interval: see jobLockOptions. */
  lockMs: number;
}

export interface RunningScheduleWorker {
  worker: Worker;
  /** Lets an active run finish, then stops. */
  close(): Promise<void>;
}

export function startScheduleWorker(options: ScheduleWorkerOptions): RunningScheduleWorker {
  const worker = new EngineWorker(options.keys.queues.schedule, createScheduleRunProcessor(options), {
    connection: options.connection,
    concurrency: options.concurrency,
    ...jobLockOptions(options.lockMs),
    logger: options.logger,
    what: 'schedule',
  });
  worker.on('failed', (job, error) =>
    options.logger.error({ err: error, jobId: job?.id, attemptsMade: job?.attemptsMade }, 'schedule run failed'),
  );
  return { worker, close: () => worker.close() };
}

export interface ScheduleTriggerCheckOptions {
  journeys: Pick<ActiveJourneys, 'list' | 'refresh'>;
  scheduleQueue: Pick<ScheduleQueue, 'scheduleJourneyRun'>;
  logger: Logger;
  /** Milliseconds since the epoch: which occurrences of a cron are still to come. */
  now: () => number;
  /** Pause between checks (default 5 s). */
  intervalMs?: number;
}

/** Run job ids this process added, so a check does not add the same few dozen runs again every few seconds. */
const ADDED_KEPT = 10_000;

export interface ScheduleTriggerCheck extends Periodic {
  /** One check: adds the run of every active schedule journey's active version; returns how many it asked for. */
  check(): Promise<number>;
}

/**
 * Adds the runs of schedule triggers: every active journey with a `schedule` trigger gets its active version's
 * runs added, a one-time `at` once, a `cron` its next occurrence (per instant of its zones, for "user") as soon as
 * the one before it came. A run is a delayed BullMQ job, so it survives restarts and runs when a worker is there;
 * its job id derives from (journey, version, instant) and finished jobs are kept (a cron's for 30 days), so adding
 * a run that is waiting, running or done is a no-op. Occurrences that came while no worker ran the check are not
 * made up for, except the next one, which was added before.
 */
export function startScheduleTriggerCheck(options: ScheduleTriggerCheckOptions): ScheduleTriggerCheck {
  const added = new Set<string>();
  async function check(): Promise<number> {
    let asked = 0;
    await options.journeys.refresh();
    const now = options.now();
    for (const { journeyId, version, definition } of await options.journeys.list()) {
      const trigger = definition.entry.trigger;
      if (trigger.type !== 'schedule') continue;
      try {
        for (const run of upcomingScheduleRuns(definition, now)) {
          const id = `${journeyId}:${version}:${run.at}`;
          if (added.has(id)) continue;
          await options.scheduleQueue.scheduleJourneyRun(journeyId, version, run.at, {
            zones: run.zones,
            recurring: trigger.cron !== undefined,
          });
          if (added.size >= ADDED_KEPT) added.clear();
          added.add(id);
          asked++;
        }
      } catch (error) {
        // One journey's bad trigger must not keep the others' runs from being added.
        options.logger.error({ err: error, journeyId, version }, 'could not add the run of a schedule trigger');
      }
    }
    return asked;
  }
  const periodic = startPeriodic(check, {
    intervalMs: options.intervalMs ?? 5_000,
    logger: options.logger,
    what: 'schedule trigger check',
  });
  return { check, stop: periodic.stop };
}
