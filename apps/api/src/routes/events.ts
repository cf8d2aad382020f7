import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { bodyCheckValidator } from '../schemas/body-check.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { checkEventsBody, EventsAcceptedSchema, EventsRequestSchema } from '../schemas/events.js';
import { eventRecord, type Ingest, type NotStored } from '../services/ingest.js';
import { serviceUnavailable } from './unavailable.js';

const NOT_STORED: Record<NotStored, string> = {
  none: 'Redis is unavailable: nothing was accepted. Send the same request again later.',
  unknown:
    'Storing the events failed part-way: some may have been accepted. Send the same request again: ' +
    'events with an `id` are de-duplicated, so only events without one could be processed twice.',
};

/** User events (ingest keys): durable in Redis before the 202, de-duplicated by client id, applied in order per user. */
export const eventRoutes: FastifyPluginAsyncZod<{ ingest: Ingest }> = async (app, { ingest }) => {
  app.post(
    '/v1/events',
    {
      config: { scopes: ['ingest'] },
      validatorCompiler: bodyCheckValidator(checkEventsBody),
      schema: {
        tags: ['events'],
        summary: 'Accepts one event or a batch of up to 1000',
        description:
          'A `202` means the accepted events are durable: each is processed once, in the order sent per user, even if ' +
          'no worker runs right now. An event whose `id` was accepted before (within the de-duplication window) is ' +
          'counted in `duplicates` and not processed again. In a batch, bad events are listed in `rejected` and the ' +
          'others are accepted; a single bad event is a `400`. A `503` means Redis is unavailable: send the request again.',
        body: EventsRequestSchema,
        response: { 202: EventsAcceptedSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 413, 415) },
      },
    },
    async (request, reply) => {
      const { events, rejected } = request.body;
      const now = Date.now();
      const outcome = await ingest.append(events.map((event) => eventRecord(event, now)));
      if (!outcome.ok) throw serviceUnavailable(reply, NOT_STORED[outcome.stored]);
      const accepted = outcome.results.filter((result) => result.status === 'accepted').length;
      const duplicates = outcome.results.length - accepted;
      app.countIngested({ accepted, duplicates, rejected: rejected.length });
      return reply.code(202).send({ accepted, duplicates, rejected });
    },
  );
};
