import type { JourneysRepository } from '@journey/mongo';
import { STATS_BUCKETS, type Counters, type JourneyStats, type Stats } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HttpError } from '../plugins/error-handler.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';
import { JourneyStatsSchema, MAX_BUCKETS, StatsQuerySchema } from '../schemas/stats.js';

const DEFAULT_SPAN_SECONDS = { hour: 24 * 3_600, day: 30 * 86_400 } as const;

/** A counters object with its conversion rate (rounded to 4 places: a rate, not a count). */
function withRate(counters: Counters) {
  return {
    ...counters,
    conversionRate: counters.entered > 0 ? Math.round((counters.converted / counters.entered) * 10_000) / 10_000 : null,
  };
}

function shaped({ journey, steps }: Pick<JourneyStats, 'journey' | 'steps'>) {
  return {
    journey: withRate(journey),
    steps: Object.fromEntries(
      Object.entries(steps).map(([stepId, step]) => [
        stepId,
        {
          counters: withRate(step.counters),
          branches: Object.fromEntries(Object.entries(step.branches).map(([branchId, counters]) => [branchId, withRate(counters)])),
        },
      ]),
    ),
  };
}

/** Counters of a journey, read from the Redis hashes the workers increment (admin and ops keys). */
export const statsRoutes: FastifyPluginAsyncZod<{ journeys: Pick<JourneysRepository, 'get'>; stats: Stats; now?: () => number }> = async (
  app,
  { journeys, stats, now = Date.now },
) => {
  app.get(
    '/v1/journeys/:id/stats',
    {
      config: { scopes: ['ops'] },
      schema: {
        tags: ['journeys'],
        summary: 'Counters and conversion rates per version, step and branch; per hour or day with `interval`',
        description:
          `Hour buckets are kept ${STATS_BUCKETS.hour.keptSeconds / 86_400} days and day buckets ${STATS_BUCKETS.day.keptSeconds / 86_400} ` +
          'days: a request asks for at most that many. Buckets are UTC hours and days, by when each thing was counted.',
        params: JourneyParamsSchema,
        querystring: StatsQuerySchema,
        response: { 200: JourneyStatsSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request) => {
      const journey = await journeys.get(request.params.id);
      if (!journey) throw new HttpError(404, `Journey ${request.params.id} not found`);
      const published = Array.from({ length: journey.latestVersion }, (_, index) => index + 1);
      const { version: wanted, interval } = request.query;
      if (wanted !== undefined && !published.includes(wanted)) {
        throw new HttpError(404, `Journey ${journey.id} has no published version ${wanted}`);
      }
      let range: { from: number; to: number } | null = null;
      if (interval !== undefined) {
        const to = Math.floor((request.query.to ?? now()) / 1000);
        const from = Math.floor((request.query.from ?? (to - DEFAULT_SPAN_SECONDS[interval]) * 1000) / 1000);
        const buckets = Math.ceil((to - from) / STATS_BUCKETS[interval].seconds);
        if (buckets > MAX_BUCKETS[interval]) {
          throw new HttpError(400, 'Invalid request querystring', [
            { path: 'querystring.from', message: `asks for ${buckets} ${interval}s: at most ${MAX_BUCKETS[interval]} are kept` },
          ]);
        }
        range = { from, to };
      }
      const versions = await Promise.all(
        (wanted === undefined ? published : [wanted]).map(async (version) => {
          const totals = shaped(await stats.read(journey.id, version));
          if (!range || !interval) return { version, ...totals };
          const buckets = await stats.readBuckets(journey.id, version, interval, range.from, range.to);
          return {
            version,
            ...totals,
            buckets: buckets.map((bucket) => ({ start: new Date(bucket.start * 1000).toISOString(), ...shaped(bucket) })),
          };
        }),
      );
      return { journeyId: journey.id, interval: interval ?? null, versions };
    },
  );
};
