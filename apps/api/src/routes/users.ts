import type { JourneyState, User } from '@journey/mongo';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../plugins/error-handler.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import {
  SubscriptionsChangeSchema,
  SubscriptionsSchema,
  UpsertUserBodySchema,
  UserParamsSchema,
  UserProfileSchema,
  UserSchema,
  type UserBody,
  type UserProfileBody,
} from '../schemas/users.js';
import type { UsersService } from '../services/users.js';
import { serviceUnavailable } from './unavailable.js';

function userBody(user: User): UserBody {
  return {
    userId: user.userId,
    attributes: user.attributes,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString(),
  };
}

function journeyStateBody(state: JourneyState): UserProfileBody['journeys'][number] {
  return {
    journeyId: state.journeyId,
    version: state.version,
    entryId: state.entryId,
    status: state.status,
    stepId: state.stepId,
    enteredAt: state.firstEnteredAt.toISOString(),
    lastEnteredAt: state.lastEnteredAt.toISOString(),
    entries: state.entries,
    endedAt: state.endedAt?.toISOString() ?? null,
    messages: Object.fromEntries(
      Object.entries(state.messages).map(([stepId, message]) => [
        stepId,
        {
          status: message.status,
          reason: message.reason,
          attempts: message.attempts,
          visit: message.visit,
          completedAt: message.completedAt?.toISOString() ?? null,
          nextAttemptAt: message.nextAttemptAt?.toISOString() ?? null,
          lastError: message.lastError,
        },
      ]),
    ),
  };
}

const tags = ['users'];
// Apps keep their users' attributes and subscriptions current; an admin key may do everything.
const config = { scopes: ['ingest'] } as const;
const storing = { ...config, storesBody: true } as const;

/** User attributes, subscriptions and journey states (ingest and admin keys). */
export const userRoutes: FastifyPluginAsyncZod<{ users: UsersService }> = async (app, { users }) => {
  app.put(
    '/v1/users/:userId',
    {
      config: storing,
      schema: {
        tags,
        summary: 'Creates or updates a user: merges the attributes (`null` removes one)',
        description:
          "The attributes are stored at once; journeys see the change in order with the user's events (exit criteria, " +
          'audiences). A `503` means Redis is unavailable: send the same request again (merging is idempotent).',
        params: UserParamsSchema,
        body: UpsertUserBodySchema,
        response: { 200: UserSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 413, 415) },
      },
    },
    async (request, reply) => {
      const outcome = await users.upsertAttributes(request.params.userId, request.body.attributes);
      if (!outcome.ok) {
        if (outcome.reason === 'too_many_attributes')
          throw new HttpError(400, 'Too many attributes', [{ path: 'body.attributes', message: outcome.message }]);
        throw serviceUnavailable(reply, outcome.message);
      }
      return userBody(outcome.user);
    },
  );

  app.get(
    '/v1/users/:userId',
    {
      config,
      schema: {
        tags,
        summary: "Reads a user's attributes, muted message types and journey states",
        params: UserParamsSchema,
        response: { 200: UserProfileSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request) => {
      const { userId } = request.params;
      const outcome = await users.profile(userId);
      if (!outcome.ok) throw new HttpError(404, `User ${userId} not found`);
      const { user, journeys } = outcome.profile;
      return { ...userBody(user), subscriptions: { muted: user.muted }, journeys: journeys.map(journeyStateBody) };
    },
  );

  app.delete(
    '/v1/users/:userId',
    {
      config: { scopes: ['admin'] },
      schema: {
        tags,
        summary: 'Erases a user everywhere: profile, journey states, mutes, send history and scheduled items',
        description:
          'Nothing is sent to the user afterwards, and events of theirs accepted before this call are never applied. ' +
          'The user reads as 404 from then on, until the app writes them again (attributes or new events).',
        params: UserParamsSchema,
        response: { 204: z.null().describe('Erased'), ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request, reply) => {
      const { userId } = request.params;
      const outcome = await users.erase(userId);
      if (!outcome.ok) {
        if (outcome.reason === 'not_found') throw new HttpError(404, `User ${userId} not found`);
        throw serviceUnavailable(reply, outcome.message);
      }
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/v1/users/:userId/subscriptions',
    {
      config,
      schema: {
        tags,
        summary: 'Mutes or unmutes message types for a user',
        description: 'Message steps of a muted `messageType` skip the user. Answers every muted type after the change.',
        params: UserParamsSchema,
        body: SubscriptionsChangeSchema,
        response: { 200: SubscriptionsSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 413, 415) },
      },
    },
    async (request) => {
      const { userId } = request.params;
      return { userId, muted: await users.updateSubscriptions(userId, request.body) };
    },
  );
};
