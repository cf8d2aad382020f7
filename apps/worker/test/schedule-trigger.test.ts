import { entryIdFor } from '@journey/core';
import { eventually } from '@journey/embedded/testing';
import { createScheduleQueue, type ScheduleRunJob } from '@journey/redis';
import type { Job } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createScheduleRunProcessor,
  startScheduleTriggerCheck,
  startScheduleWorker,
  type ScheduleRunResult,
} from '../src/entry/schedule-trigger.js';
import { ingestEnv, onboardingJourney, silentLogger, T0, type IngestEnv } from './ingest-helpers.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const AT = '2026-11-22T10:00:00Z';

function scheduledJourney(): Record<string, unknown> {
  return onboardingJourney({
    name: 'Newsletter',
    entry: { trigger: { type: 'schedule', at: AT }, audience: { attr: 'country', op: 'eq', value: 'US' } },
  });
}

/** Due members of a branch at a second, summed over every shard. */
async function dueCount(
  env: IngestEnv,
  branch: { journeyId: string; version: number; stepId: string },
  dueSecond: number,
): Promise<number> {
  let total = 0;
  for (let shard = 0; shard < env.keys.dueShards; shard++) total += await env.redis.scard(env.keys.dueSet({ shard, branch, dueSecond }));
  return total;
}

function fakeJob(data: ScheduleRunJob): Job {
  return { id: 'direct', data, progress: 0, updateProgress: async () => undefined } as unknown as Job;
}

describe('schedule triggers', () => {
  it('enters every audience match, walking the users in pages, once however often the run is added or retried', async () => {
    const env = await ingestEnv();
    cleanups.push(() => env.close());
    const journeyId = await env.publish(scheduledJourney());
    const users = Array.from({ length: 2_500 }, (_, index) => ({
      userId: `u${String(index).padStart(5, '0')}`,
      country: index % 3 === 0 ? 'FR' : 'US',
    }));
    // Stored in one insert (the users repository's document shape), not 2,500 single upserts.
    await env.mongo.db.collection<{ _id: string }>('users').insertMany(
      users.map(({ userId, country }) => ({
        _id: userId,
        attributes: { country },
        lastRecord: null,
        createdAt: new Date(T0),
        updatedAt: new Date(T0),
      })),
    );
    expect((await env.users.get('u00001'))?.attributes).toEqual({ country: 'US' });
    const matching = users.filter((user) => user.country === 'US').length;

    const scheduleQueue = createScheduleQueue(env.blocking, env.keys, { now: env.clock.now });
    const worker = startScheduleWorker({
      keys: env.keys,
      connection: env.blocking,
      lockMs: env.config.JOB_LOCK_MS,
      concurrency: 1,
      journeys: env.journeysRepo,
      users: env.users,
      states: env.states,
      dueSchedule: env.dueSchedule,
      stats: env.stats,
      logger: silentLogger,
      now: env.clock.now,
      pageSize: 1_000,
    });
    cleanups.push(
      () => scheduleQueue.queue.obliterate({ force: true }),
      () => scheduleQueue.close(),
      () => worker.close(),
    );

    // The trigger time is now: the run is added without delay.
    const at = Date.parse(AT);
    const jobId = await scheduleQueue.scheduleJourneyRun(journeyId, 1, at);
    const result = await eventually(
      async () => {
        // `finishedOn` and `returnvalue` are written by the same script: a job read with the one holds the other.
        // (Reading the state after the job raced with the completion and saw it completed with a stale result.)
        const job = await scheduleQueue.queue.getJob(jobId);
        return job?.finishedOn !== undefined && (await job.isCompleted()) ? (job.returnvalue as ScheduleRunResult) : undefined;
      },
      { what: 'the schedule run completed', timeoutMs: 30_000 },
    );
    expect(result).toEqual({ pages: 3, users: 2_500, matched: matching, entered: matching, scheduled: matching });

    const states = env.mongo.db.collection('journey_states');
    expect(await states.countDocuments({ journeyId, status: 'active' })).toBe(matching);
    const welcome = { journeyId, version: 1, stepId: 'welcome' };
    const second = Math.floor(T0 / 1000);
    expect(await dueCount(env, welcome, second)).toBe(matching);
    const entryId = entryIdFor(journeyId, `schedule:1:${at}`);
    expect(await env.dueMembers('u00001', welcome, second)).toContain(`u00001|${entryId}||0`);
    expect(await env.states.get(journeyId, 'u00000')).toBeNull();

    // Added again (the API on publish, the worker's check): the finished run is not run twice.
    const check = startScheduleTriggerCheck({
      journeys: env.journeys,
      scheduleQueue,
      logger: silentLogger,
      now: env.clock.now,
      intervalMs: 60_000,
    });
    cleanups.push(() => check.stop());
    expect(await check.check()).toBe(1);
    expect(await scheduleQueue.scheduleJourneyRun(journeyId, 1, at)).toBe(jobId);
    expect(await scheduleQueue.queue.getJobCounts('waiting', 'delayed', 'active', 'completed')).toEqual({
      waiting: 0,
      delayed: 0,
      active: 0,
      completed: 1,
    });

    // A retried run (same job) enters nobody twice: it finds its own entries and only re-schedules pending first steps.
    env.clock.advance(5_000);
    const retried = await createScheduleRunProcessor({
      journeys: env.journeysRepo,
      users: env.users,
      states: env.states,
      dueSchedule: env.dueSchedule,
      stats: env.stats,
      logger: silentLogger,
      now: env.clock.now,
    })(fakeJob({ journeyId, version: 1, at }));
    expect(retried).toMatchObject({ matched: matching, entered: 0, scheduled: matching });
    expect(await states.countDocuments({ journeyId, entries: { $gt: 1 } })).toBe(0);
    expect(await dueCount(env, welcome, second)).toBe(matching);
    expect(await dueCount(env, welcome, second + 5)).toBe(0);
  }, 60_000);

  it('a run for a version that is no longer active, or a trigger time that changed, enters nobody', async () => {
    const env = await ingestEnv();
    cleanups.push(() => env.close());
    const journeyId = await env.publish(scheduledJourney());
    await env.users.mergeAttributes('us', { country: 'US' }, new Date(T0));
    const run = createScheduleRunProcessor({
      journeys: env.journeysRepo,
      users: env.users,
      states: env.states,
      dueSchedule: env.dueSchedule,
      stats: env.stats,
      logger: silentLogger,
      now: env.clock.now,
    });

    expect(await run(fakeJob({ journeyId, version: 1, at: Date.parse(AT) + 1 }))).toMatchObject({
      entered: 0,
      skipped: expect.any(String),
    });
    expect(await run(fakeJob({ journeyId, version: 2, at: Date.parse(AT) }))).toMatchObject({ entered: 0, skipped: expect.any(String) });
    expect((await env.journeysRepo.pause(journeyId)).ok).toBe(true);
    await env.revision.bump();
    expect(await run(fakeJob({ journeyId, version: 1, at: Date.parse(AT) }))).toMatchObject({ entered: 0, skipped: expect.any(String) });
    expect(await env.states.get(journeyId, 'us')).toBeNull();
  });

  it("one journey's trigger that cannot be scheduled does not keep the others' runs from being added", async () => {
    const env = await ingestEnv();
    cleanups.push(() => env.close());
    const scheduleQueue = createScheduleQueue(env.blocking, env.keys);
    cleanups.push(
      () => scheduleQueue.queue.obliterate({ force: true }),
      () => scheduleQueue.close(),
    );
    const broken = await env.publish(scheduledJourney());
    const healthy = await env.publish(scheduledJourney());
    // A stored version dated before 1970 (a hand edit: no rule lets one in): it does not read, and is left out.
    await env.mongo.db
      .collection('journey_versions')
      .updateOne({ _id: `${broken}:1` as never }, { $set: { 'definition.entry.trigger.at': '1969-12-31T23:00:00Z' } });
    const check = startScheduleTriggerCheck({
      journeys: env.journeys,
      scheduleQueue,
      logger: silentLogger,
      now: env.clock.now,
      intervalMs: 60_000,
    });
    cleanups.push(() => check.stop());

    expect(await check.check()).toBe(1);
    expect(await scheduleQueue.queue.getJob(env.keys.scheduleJobId(healthy, 1, Date.parse(AT)))).toBeTruthy();
  });

  it('adds each next occurrence of a cron, and a "user" run enters only the users of its zones, each occurrence once', async () => {
    const env = await ingestEnv();
    cleanups.push(() => env.close());
    const scheduleQueue = createScheduleQueue(env.blocking, env.keys, { now: env.clock.now });
    cleanups.push(
      () => scheduleQueue.queue.obliterate({ force: true }),
      () => scheduleQueue.close(),
    );
    // Every day at 09:00 in each user's own zone; users without a valid zone follow the journey's (Europe/Paris).
    const journeyId = await env.publish(
      onboardingJourney({
        name: 'Morning',
        entry: { trigger: { type: 'schedule', cron: '0 9 * * *', timezone: 'user' }, reentry: { mode: 'after', after: 'PT1H' } },
        settings: { timezone: 'Europe/Paris' },
      }),
    );
    for (const [userId, timezone] of [
      ['tokyo', 'Asia/Tokyo'],
      ['seoul', 'Asia/Seoul'],
      ['paris', 'Europe/Paris'],
      ['berlin', 'Europe/Berlin'],
      ['nowhere', 'Not/AZone'],
      ['nozone', undefined],
      ['ny', 'America/New_York'],
    ] as const) {
      await env.users.mergeAttributes(userId, timezone === undefined ? { country: 'US' } : { country: 'US', timezone }, new Date(T0));
    }
    const check = startScheduleTriggerCheck({
      journeys: env.journeys,
      scheduleQueue,
      logger: silentLogger,
      now: env.clock.now,
      intervalMs: 60_000,
    });
    cleanups.push(() => check.stop());
    // T0 is 10:00Z: the next 09:00 in Tokyo is 00:00Z tomorrow, in Paris (winter) 08:00Z tomorrow.
    const added = await check.check();
    expect(added).toBeGreaterThan(20);
    expect(await check.check()).toBe(0);
    const tokyoAt = Date.parse('2026-11-23T00:00:00Z');
    const parisAt = Date.parse('2026-11-23T08:00:00Z');
    const tokyoJob = await scheduleQueue.queue.getJob(env.keys.scheduleJobId(journeyId, 1, tokyoAt));
    expect(tokyoJob?.data.zones).toEqual(expect.arrayContaining(['Asia/Tokyo', 'Asia/Seoul']));
    expect(tokyoJob?.data.zones).not.toContain('Europe/Paris');
    const parisJob = await scheduleQueue.queue.getJob(env.keys.scheduleJobId(journeyId, 1, parisAt));
    expect(parisJob?.data.zones).toEqual(expect.arrayContaining(['Europe/Paris', 'Europe/Berlin']));

    const run = createScheduleRunProcessor({
      journeys: env.journeysRepo,
      users: env.users,
      states: env.states,
      dueSchedule: env.dueSchedule,
      stats: env.stats,
      logger: silentLogger,
      now: env.clock.now,
      pageSize: 2,
    });
    const enteredUsers = async () =>
      (await env.mongo.db.collection('journey_states').find({ journeyId }).toArray()).map((state) => state['userId'] as string).sort();
    env.clock.advance(tokyoAt - T0);
    expect(await run(fakeJob(tokyoJob!.data))).toMatchObject({ users: 2, entered: 2 });
    expect(await enteredUsers()).toEqual(['seoul', 'tokyo']);
    env.clock.advance(parisAt - tokyoAt);
    expect(await run(fakeJob(parisJob!.data))).toMatchObject({ users: 4, entered: 4 });
    expect(await enteredUsers()).toEqual(['berlin', 'nowhere', 'nozone', 'paris', 'seoul', 'tokyo']);
    // The same occurrence again (a retried job) enters nobody twice.
    expect(await run(fakeJob(parisJob!.data))).toMatchObject({ entered: 0 });
    // A run that is no occurrence of the trigger (another instant for these zones) enters nobody.
    expect(await run(fakeJob({ ...parisJob!.data, at: parisAt + 3_600_000 }))).toMatchObject({ entered: 0, skipped: expect.any(String) });

    // Once the Tokyo occurrence passed, the check adds the next one, a day later.
    await check.check();
    expect(await scheduleQueue.queue.getJob(env.keys.scheduleJobId(journeyId, 1, tokyoAt + 86_400_000))).toBeTruthy();
  });

  it('runs a zoned cron at its occurrences, and entries repeat only as reentry allows', async () => {
    const env = await ingestEnv();
    cleanups.push(() => env.close());
    const journeyId = await env.publish(
      onboardingJourney({
        name: 'Hourly',
        entry: { trigger: { type: 'schedule', cron: '30 * * * *', timezone: 'UTC' }, reentry: { mode: 'never' } },
      }),
    );
    await env.users.mergeAttributes('once', { country: 'US' }, new Date(T0));
    const run = createScheduleRunProcessor({
      journeys: env.journeysRepo,
      users: env.users,
      states: env.states,
      dueSchedule: env.dueSchedule,
      stats: env.stats,
      logger: silentLogger,
      now: env.clock.now,
    });
    const first = T0 + 30 * 60_000;
    expect(await run(fakeJob({ journeyId, version: 1, at: first }))).toMatchObject({ entered: 1 });
    // The next occurrence: reentry "never" keeps the user out (after it completes, too).
    expect(await run(fakeJob({ journeyId, version: 1, at: first + 3_600_000 }))).toMatchObject({ matched: 1, entered: 0 });
    expect(await env.states.get(journeyId, 'once')).toMatchObject({ entries: 1 });
    expect((await env.stats.read(journeyId, 1)).journey.entered).toBe(1);
  });
});
