import { ACTIVITY_COUNTERS, OpsFailureSchema } from '@journey/redis';
import { z } from 'zod';

export const QUEUE_COUNT_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'] as const;

const count = z.number().int().nonnegative();

const QueueSchema = z.object({
  name: z
    .enum(['drain', 'dispatch', 'schedule'])
    .describe('drain: applies events per partition; dispatch: batch jobs; schedule: schedule triggers'),
  queues: z.array(z.string()).describe('The BullMQ queues of this kind: a drain and a dispatch queue per queue group (QUEUE_GROUPS)'),
  counts: z
    .object(
      Object.fromEntries(QUEUE_COUNT_STATES.map((state) => [state, count])) as Record<(typeof QUEUE_COUNT_STATES)[number], typeof count>,
    )
    .describe("Jobs per state, over the kind's queues"),
});

const ActivityCountsSchema = z.object(
  Object.fromEntries(ACTIVITY_COUNTERS.map((counter) => [counter, z.number().nonnegative()])) as Record<
    (typeof ACTIVITY_COUNTERS)[number],
    z.ZodNumber
  >,
);

export const OpsQueuesSchema = z
  .object({
    at: z.iso.datetime().describe('When this snapshot was read'),
    queues: z.array(QueueSchema),
    batches: z
      .object({
        shards: count,
        dueSets: count.describe('Due sets (branch and second) still holding users'),
        usersWaiting: count.describe('Users in due sets, not yet carved into a batch'),
        oldestDueAt: z.iso.datetime().nullable().describe('Due second of the oldest due set'),
        lagSeconds: z.number().nonnegative().describe('How far the oldest due set is behind now (0 when it is not due yet)'),
        unfinishedBatches: count.describe('Batches carved but not yet finished (their jobs are queued or running)'),
        oldestBatchCarvedAt: z.iso.datetime().nullable(),
      })
      .describe('The batch buffers: due sets keyed branch:second and the batches carved from them'),
    events: z.object({
      pending: count.describe('Accepted events not yet applied, over every partition'),
      deadLetters: count.describe('Records that failed to apply too often and were set aside (their partition went on without them)'),
      recentDeadLetters: z
        .array(
          z.object({
            partition: count,
            streamId: z.string().describe("The record's id in its partition's stream"),
            record: z.string().describe('The record as it was accepted (JSON)'),
            error: z.string().describe('The error of its last failure'),
            failures: count,
            at: z.iso.datetime(),
          }),
        )
        .describe('The newest dead letters, newest first'),
    }),
    rates: z
      .object({ windowSeconds: count, perSecond: ActivityCountsSchema, totals: ActivityCountsSchema })
      .describe('Dispatch over the last full minute: users dispatched, and sends sent, failed and skipped'),
    failures: z
      .array(OpsFailureSchema.omit({ at: true }).extend({ at: z.iso.datetime() }))
      .describe('Recent failures, newest first: failed sends, failed batch, drain and schedule jobs'),
  })
  .meta({
    id: 'OpsQueues',
    examples: [
      {
        at: '2026-12-03T12:00:00.000Z',
        queues: [
          {
            name: 'dispatch',
            queues: ['{je-dispatch-0.3}', '{je-dispatch-1.10}', '{je-dispatch-2.3}', '{je-dispatch-3.50}'],
            counts: { waiting: 40, active: 8, delayed: 0, prioritized: 0, failed: 1, completed: 1000 },
          },
        ],
        batches: {
          shards: 16,
          dueSets: 16,
          usersWaiting: 91_800,
          oldestDueAt: '2026-12-03T11:59:58.000Z',
          lagSeconds: 2,
          unfinishedBatches: 48,
          oldestBatchCarvedAt: '2026-12-03T11:59:59.120Z',
        },
        events: { pending: 0, deadLetters: 0, recentDeadLetters: [] },
        rates: {
          windowSeconds: 60,
          perSecond: { dispatched: 4100, sent: 4090, failed: 0.5, skipped: 9.5 },
          totals: { dispatched: 246_000, sent: 245_400, failed: 30, skipped: 570 },
        },
        failures: [
          {
            at: '2026-12-03T11:59:40.000Z',
            source: 'send',
            reason: 'http_4xx after 1 attempt(s)',
            journeyId: 'jrn_0123456789abcdef0123',
            stepId: 'welcome',
            userId: 'ada',
          },
        ],
      },
    ],
  });

export type OpsQueues = z.infer<typeof OpsQueuesSchema>;
