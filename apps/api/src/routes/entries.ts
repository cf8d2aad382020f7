import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HttpError } from '../plugins/error-handler.js';
import { EntriesAcceptedSchema, EntriesRequestSchema } from '../schemas/entries.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';
import type { EntriesService } from '../services/entries.js';
import type { NotStored } from '../services/ingest.js';
import { serviceUnavailable } from './unavailable.js';

const NOT_STORED: Record<NotStored, string> = {
  none: 'Redis is unavailable: no user was entered. Send the same request again later.',
  unknown:
    'Storing the entries failed part-way: some users may be entered. Send the same request again: ' +
    'a user already inside the journey is not entered twice.',
};

/** Entering users into `api` journeys (admin keys). */
export const entryRoutes: FastifyPluginAsyncZod<{ entries: EntriesService }> = async (app, { entries }) => {
  app.post(
    '/v1/journeys/:id/entries',
    {
      config: { scopes: ['admin'] },
      schema: {
        tags: ['events'],
        summary: 'Enters users into an active journey whose trigger is `api`',
        description:
          'A `202` means the entry requests are durable; each user is entered in order with their events, and the ' +
          "journey's templates read the entry's `properties` as `event.*`. An entry with an `id` sent again enters once. " +
          'A journey that is not active, or whose active version has another trigger, is a `409` saying which.',
        params: JourneyParamsSchema,
        body: EntriesRequestSchema,
        response: { 202: EntriesAcceptedSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const outcome = await entries.enter(request.params.id, request.body);
      if (outcome.ok) return reply.code(202).send({ accepted: outcome.accepted, duplicates: outcome.duplicates });
      if (outcome.reason === 'unavailable') throw serviceUnavailable(reply, NOT_STORED[outcome.stored]);
      throw new HttpError(outcome.reason === 'not_found' ? 404 : 409, outcome.message);
    },
  );
};
