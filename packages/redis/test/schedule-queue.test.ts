import { testServers } from '@journey/embedded/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis } from '../src/connection.js';
import { createScheduleQueue, ScheduleRunJobSchema } from '../src/schedule-queue.js';
import { freshKeys } from './helpers.js';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

const JOURNEY = 'jrn_0123456789abcdef0123';

describe('schedule queue', () => {
  it('adds a run delayed until its time, once however often it is added', async () => {
    const keys = freshKeys();
    const connection = await connectRedis(testServers().redis, 'blocking');
    const now = 1_790_000_000_000;
    const schedules = createScheduleQueue(connection, keys, { now: () => now });
    closers.push(
      () => connection.quit(),
      () => schedules.close(),
      () => schedules.queue.obliterate({ force: true }),
    );

    const jobId = await schedules.scheduleJourneyRun(JOURNEY, 1, now + 60_000);
    expect(await schedules.scheduleJourneyRun(JOURNEY, 1, now + 60_000)).toBe(jobId);
    expect(jobId).toBe(keys.scheduleJobId(JOURNEY, 1, now + 60_000));
    const delayed = await schedules.queue.getDelayed();
    expect(delayed).toHaveLength(1);
    expect(delayed[0]?.opts.delay).toBe(60_000);
    expect(ScheduleRunJobSchema.parse(delayed[0]?.data)).toEqual({ journeyId: JOURNEY, version: 1, at: now + 60_000 });

    // A time already past runs at once; another version is another run.
    await schedules.scheduleJourneyRun(JOURNEY, 2, now - 5_000);
    const waiting = await schedules.queue.getWaiting();
    expect(waiting.map((job) => [job.id, job.opts.delay ?? 0])).toEqual([[keys.scheduleJobId(JOURNEY, 2, now - 5_000), 0]]);
  });

  it('refuses payloads the worker could not use', async () => {
    const keys = freshKeys();
    const connection = await connectRedis(testServers().redis, 'blocking');
    const schedules = createScheduleQueue(connection, keys);
    closers.push(
      () => connection.quit(),
      () => schedules.close(),
    );
    await expect(schedules.scheduleJourneyRun('a:b', 1, 0)).rejects.toThrow();
    await expect(schedules.scheduleJourneyRun(JOURNEY, 0, 0)).rejects.toThrow();
    await expect(schedules.scheduleJourneyRun(JOURNEY, 1, 1.5)).rejects.toThrow();
  });
});
