import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { App } from '../app.js';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';

/** OpenAPI 3 generated from the routes' zod schemas: UI at /docs, the document at /docs/json. */
export async function registerSwagger(app: App): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Journey engine API',
        description:
          'Define customer journeys, post user events, and watch the engine move users through them. ' +
          'Send `Authorization: Bearer <key>`; scopes are `admin`, `ingest` and `ops`. For a browser: every journey has a ' +
          'live map at `/journeys/{id}`, and the queues a dashboard at `/ops/dashboard` (any user name, an `ops` key as password).',
        version: '1.0.0',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'An API key; ADMIN_API_KEY is always an admin key.' } },
      },
      security: [{ bearer: [] }],
      tags: [
        { name: 'health', description: 'Liveness and metrics' },
        { name: 'journeys', description: 'Journey definitions, versions and lifecycle' },
        { name: 'events', description: 'User events that enter and move users' },
        { name: 'users', description: 'User attributes, subscriptions and journey states' },
        { name: 'ops', description: 'Queues, batches, lag and failures' },
        { name: 'api-keys', description: 'Scoped API keys' },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // The docs are public: clients read them before they hold a key, and they carry no data.
  await app.register(async (docs) => {
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, public: true };
    });
    await docs.register(fastifySwaggerUi, { routePrefix: '/docs' });
  });
}
