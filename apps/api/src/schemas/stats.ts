import { STAT_COUNTERS } from '@journey/redis';
import { z } from 'zod';

const CountersSchema = z.object(
  Object.fromEntries(STAT_COUNTERS.map((counter) => [counter, z.number().int()])) as Record<(typeof STAT_COUNTERS)[number], z.ZodNumber>,
);

const StepStatsSchema = z.object({
  counters: CountersSchema.describe('The step as a whole'),
  branches: z.record(z.string(), CountersSchema).describe('Per branch, path or variant taken at the step'),
});

export const JourneyStatsSchema = z
  .object({
    journeyId: z.string(),
    versions: z.array(z.object({ version: z.number().int().positive(), steps: z.record(z.string(), StepStatsSchema) })),
  })
  .meta({
    id: 'JourneyStats',
    description:
      'Counters per journey version, step and branch: `entered` (reached the step or took the branch), `sent`, `skipped` ' +
      '(muted, frequency cap), `failed` (given up), `exited`, `converted` (an action path taken by its event).',
    examples: [
      {
        journeyId: 'jrn_0123456789abcdef0123',
        versions: [
          {
            version: 1,
            steps: {
              welcome: { counters: { entered: 120, sent: 118, skipped: 2, exited: 0, converted: 0, failed: 0 }, branches: {} },
              split: {
                counters: { entered: 0, sent: 0, skipped: 0, exited: 0, converted: 0, failed: 0 },
                branches: { vip: { entered: 30, sent: 0, skipped: 0, exited: 0, converted: 0, failed: 0 } },
              },
            },
          },
        ],
      },
    ],
  });

export const StatsQuerySchema = z.strictObject({
  version: z.coerce.number().int().positive().optional().describe('Only this version (default: every published version)'),
});
