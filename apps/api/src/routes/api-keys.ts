import { withoutLoneSurrogates } from '@journey/core';
import { ApiKeyScopeSchema, type ApiKeysRepository } from '@journey/mongo';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../plugins/error-handler.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';

const ScopeSchema = ApiKeyScopeSchema.describe('admin: journeys, users, keys; ingest: events, user attributes; ops: queue stats').meta({
  id: 'ApiKeyScope',
  examples: ['ingest'],
});

const ApiKeyIdSchema = z
  .string()
  .min(1)
  .max(100)
  .describe('The id returned when the key was created')
  .meta({ examples: ['key_Zq3xN8c0Kf1rT2vW'] });

const CreateApiKeyBodySchema = z
  .strictObject({
    scope: ScopeSchema,
    name: withoutLoneSurrogates(z.string().trim().min(1).max(100)).describe('What the key is for, for people reading the key list'),
  })
  .meta({ id: 'CreateApiKeyRequest', examples: [{ scope: 'ingest', name: 'web app events' }] });

const CreatedApiKeySchema = z
  .object({
    id: ApiKeyIdSchema,
    key: z.string().describe('The key itself: shown only in this answer, store it now'),
    scope: ScopeSchema,
    name: z.string(),
  })
  .meta({
    id: 'CreatedApiKey',
    examples: [
      { id: 'key_Zq3xN8c0Kf1rT2vW', key: 'je_ingest_3nVd0m9yq2bTQ7cW1xJk5sLr8fZp4aHe6uGi0oNcYtE', scope: 'ingest', name: 'web app events' },
    ],
  });

const ApiKeyListSchema = z
  .object({
    items: z.array(
      z.object({
        id: ApiKeyIdSchema,
        scope: ScopeSchema,
        name: z.string(),
        createdAt: z.iso.datetime(),
        lastUsedAt: z.iso.datetime().nullable().describe('When it last authenticated a request, to the minute; null if never'),
        revokedAt: z.iso.datetime().nullable(),
      }),
    ),
  })
  .meta({
    id: 'ApiKeyList',
    description: 'Stored keys, oldest first; never the key itself. `ADMIN_API_KEY` from the environment is not listed.',
    examples: [
      {
        items: [
          {
            id: 'key_Zq3xN8c0Kf1rT2vW',
            scope: 'ingest',
            name: 'web app events',
            createdAt: '2026-11-20T08:00:00.000Z',
            lastUsedAt: '2026-11-22T09:31:00.000Z',
            revokedAt: null,
          },
        ],
      },
    ],
  });

// No component id here: @fastify/swagger expands params into OpenAPI parameters and cannot follow a $ref.
const ApiKeyParamsSchema = z.strictObject({ id: ApiKeyIdSchema });

/** Minting, listing and revoking scoped keys (admin only). A key is never read back: only its hash is stored. */
export const apiKeyRoutes: FastifyPluginAsyncZod<{ apiKeys: ApiKeysRepository }> = async (app, { apiKeys }) => {
  app.get(
    '/v1/api-keys',
    {
      config: { scopes: ['admin'] },
      schema: {
        tags: ['api-keys'],
        summary: 'Lists keys: id, scope, name, created, last used, revoked; never the key',
        response: { 200: ApiKeyListSchema, ...errorResponses(...KEYED_ROUTE_ERRORS) },
      },
    },
    async () => {
      const iso = (date: Date | null) => date?.toISOString() ?? null;
      const keys = await apiKeys.list();
      return {
        items: keys.map((key) => ({
          id: key.id,
          scope: key.scope,
          name: key.name,
          createdAt: key.createdAt.toISOString(),
          lastUsedAt: iso(key.lastUsedAt),
          revokedAt: iso(key.revokedAt),
        })),
      };
    },
  );

  app.post(
    '/v1/api-keys',
    {
      config: { scopes: ['admin'] },
      schema: {
        tags: ['api-keys'],
        summary: 'Creates a key; the key is in this answer only',
        body: CreateApiKeyBodySchema,
        response: { 201: CreatedApiKeySchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400) },
      },
    },
    async (request, reply) => {
      const { id, key, scope, name } = await apiKeys.create(request.body);
      return reply.code(201).send({ id, key, scope, name });
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: { scopes: ['admin'] },
      schema: {
        tags: ['api-keys'],
        summary: 'Revokes a key; revoking a revoked key again is a no-op',
        params: ApiKeyParamsSchema,
        response: { 204: z.null().describe('Revoked'), ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request, reply) => {
      if (!(await apiKeys.revoke(request.params.id))) throw new HttpError(404, `API key ${request.params.id} not found`);
      return reply.code(204).send(null);
    },
  );
};
