import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { OpsQueuesSchema, type OpsQueues } from '../schemas/ops.js';

/** The operators' view (ops and admin keys): queues, batch buffers, lag, rates and recent failures. */
export const opsRoutes: FastifyPluginAsyncZod<{ snapshot: () => Promise<OpsQueues> }> = async (app, { snapshot }) => {
  app.get(
    '/v1/ops/queues',
    {
      config: { scopes: ['ops'] },
      schema: {
        tags: ['ops'],
        summary: 'Queues, batch buffers, lag, dispatch rates and recent failures',
        description:
          'Read from Redis counters and index heads only, so it stays fast with a million users waiting. `lagSeconds` is ' +
          'how far the oldest due set is behind now; rates are over the last full minute, from every worker process.',
        response: { 200: OpsQueuesSchema, ...errorResponses(...KEYED_ROUTE_ERRORS) },
      },
    },
    // Redis down is a 503 from the error handler, like every route's.
    async () => snapshot(),
  );
};
