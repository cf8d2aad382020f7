import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';
import {
  AudienceSimulationSchema,
  EntrySimulationSchema,
  SimulationRequestSchema,
  TestSendParamsSchema,
  TestSendRequestSchema,
  TestSendResultSchema,
} from '../schemas/simulation.js';
import type { SimulationService } from '../services/simulation.js';

/** See before sending: a dry run of a journey for one user or many, and a real send of one message step, marked as a test. */
export const simulationRoutes: FastifyPluginAsyncZod<{ simulation: SimulationService }> = async (app, { simulation }) => {
  app.post(
    '/v1/journeys/:id/simulate',
    {
      schema: {
        tags: ['journeys'],
        summary: 'Dry run: the path a user would take, with each message as it would be sent; nothing is sent, stored or counted',
        description:
          'Runs the same decisions as the workers on a timeline: the trigger (with `entry.properties`), then `events` at their offsets ' +
          "from the entry. Every receiver is taken to accept its message. With `user`: that user's timeline (each step with its time, " +
          'the branch taken and why, quiet hours, mutes and the frequency cap, each request exactly as sent, and where the entry ends). ' +
          'With `users`: the share of users per path. Any version, the draft included.',
        params: JourneyParamsSchema,
        body: SimulationRequestSchema,
        response: {
          200: z.union([EntrySimulationSchema, AudienceSimulationSchema]),
          ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409),
        },
      },
    },
    async (request) =>
      request.body.user
        ? simulation.simulateOne(request.params.id, request.body)
        : simulation.simulateMany(request.params.id, request.body),
  );

  app.post(
    '/v1/journeys/:id/steps/:stepId/test',
    {
      schema: {
        tags: ['journeys'],
        summary: 'Test send: render one message step for a user and deliver it for real, marked `Journey-Test: true`',
        description:
          "Delivered once to the step's URL (or `url`), with a message id of its own; no state, counter or send history changes. " +
          'The answer shows the request as sent and what the receiver answered.',
        params: TestSendParamsSchema,
        body: TestSendRequestSchema,
        response: { 200: TestSendResultSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409) },
      },
    },
    async (request) => simulation.testSend(request.params.id, request.params.stepId, request.body),
  );
};
