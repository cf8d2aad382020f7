import type { JourneysRepository } from '@journey/mongo';
import type { Stats } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HttpError } from '../plugins/error-handler.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';
import { JourneyStatsSchema, StatsQuerySchema } from '../schemas/stats.js';

/** Counters of a journey, read from the Redis hashes the dispatcher increments (admin and ops keys). */
export const statsRoutes: FastifyPluginAsyncZod<{ journeys: Pick<JourneysRepository, 'get'>; stats: Stats }> = async (
  app,
  { journeys, stats },
) => {
  app.get(
    '/v1/journeys/:id/stats',
    {
      config: { scopes: ['ops'] },
      schema: {
        tags: ['journeys'],
        summary: 'Counters per version, step and branch',
        params: JourneyParamsSchema,
        querystring: StatsQuerySchema,
        response: { 200: JourneyStatsSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request) => {
      const journey = await journeys.get(request.params.id);
      if (!journey) throw new HttpError(404, `Journey ${request.params.id} not found`);
      const published = Array.from({ length: journey.latestVersion }, (_, index) => index + 1);
      const wanted = request.query.version;
      if (wanted !== undefined && !published.includes(wanted)) {
        throw new HttpError(404, `Journey ${journey.id} has no published version ${wanted}`);
      }
      const versions = await Promise.all(
        (wanted === undefined ? published : [wanted]).map(async (version) => ({
          version,
          steps: (await stats.read(journey.id, version)).steps,
        })),
      );
      return { journeyId: journey.id, versions };
    },
  );
};
