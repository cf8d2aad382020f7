import { STAT_COUNTERS, STATS_BUCKETS } from '@journey/redis';
import { z } from 'zod';

const CountersSchema = z.object({
  ...(Object.fromEntries(STAT_COUNTERS.map((counter) => [counter, z.number().int()])) as Record<
    (typeof STAT_COUNTERS)[number],
    z.ZodNumber
  >),
  conversionRate: z.number().min(0).nullable().describe('`converted` / `entered`; null while nothing entered'),
});

const StepStatsSchema = z.object({
  counters: CountersSchema.describe('The step as a whole'),
  branches: z.record(z.string(), CountersSchema).describe('Per branch, path or experiment variant (control included) taken at the step'),
});

const CountsSchema = z.object({
  journey: CountersSchema.describe('The journey as a whole: `entered` (entries), `converted` (entries that reached the goal)'),
  steps: z.record(z.string(), StepStatsSchema),
});

const zero = { entered: 0, sent: 0, skipped: 0, exited: 0, converted: 0, failed: 0 };

export const JourneyStatsSchema = z
  .object({
    journeyId: z.string(),
    interval: z.enum(['hour', 'day']).nullable().describe('The bucket size asked for; null without `interval`'),
    versions: z.array(
      CountsSchema.extend({
        version: z.number().int().positive(),
        buckets: z
          .array(CountsSchema.extend({ start: z.iso.datetime().describe('The UTC hour or day the bucket starts at') }))
          .optional()
          .describe('With `interval`: the same counters per hour or day in [from, to), the buckets that counted anything'),
      }),
    ),
  })
  .meta({
    id: 'JourneyStats',
    description:
      'Counters per journey version, step and branch: `entered` (reached the step or took the branch), `sent`, `skipped` ' +
      '(muted, frequency cap), `failed` (given up), `exited`, `converted` (entries that reached the journey goal after ' +
      'reaching the step or taking the branch), and the conversion rate of each.',
    examples: [
      {
        journeyId: 'jrn_0123456789abcdef0123',
        interval: null,
        versions: [
          {
            version: 1,
            journey: { ...zero, entered: 120, converted: 30, conversionRate: 0.25 },
            steps: {
              ab: {
                counters: { ...zero, entered: 100, converted: 24, conversionRate: 0.24 },
                branches: {
                  A: { ...zero, entered: 45, converted: 14, conversionRate: 0.311 },
                  control: { ...zero, entered: 10, converted: 1, conversionRate: 0.1 },
                },
              },
            },
          },
        ],
      },
    ],
  });
export type JourneyStatsBody = z.infer<typeof JourneyStatsSchema>;

const InstantSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with Z or an offset' })
  .transform((value) => Date.parse(value));

export const StatsQuerySchema = z
  .strictObject({
    version: z.coerce.number().int().positive().optional().describe('Only this version (default: every published version)'),
    interval: z.enum(['hour', 'day']).optional().describe('Counters per UTC hour or day as well'),
    from: InstantSchema.optional().describe('With `interval`: the first bucket (default: 24 hours or 30 days before `to`)'),
    to: InstantSchema.optional().describe('With `interval`: the end, exclusive (default: now)'),
  })
  .superRefine((query, ctx) => {
    if (query.interval === undefined) {
      for (const key of ['from', 'to'] as const)
        if (query[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: 'needs `interval` (hour or day)' });
      return;
    }
    if (query.from !== undefined && query.to !== undefined && query.from >= query.to)
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before `to`' });
  });

/** How far back buckets are kept, and so how many one request may ask for. */
export const MAX_BUCKETS = {
  hour: STATS_BUCKETS.hour.keptSeconds / STATS_BUCKETS.hour.seconds + 1,
  day: STATS_BUCKETS.day.keptSeconds / STATS_BUCKETS.day.seconds + 1,
} as const;
