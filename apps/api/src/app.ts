import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { createApiKeysRepository } from '@journey/mongo';
import { createJourneysRepository } from '@journey/mongo';
import type { AppDeps } from './deps.js';
import { authPlugin } from './plugins/auth.js';
import { registerErrorHandler } from './plugins/error-handler.js';
import { registerSwagger } from './plugins/swagger.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { healthRoutes } from './routes/health.js';
import { journeyRoutes } from './routes/journeys.js';

/** The Fastify instance every plugin of the API is registered on. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** The HTTP edge: parse, call the domain, shape the answer. Stores come in through `deps`. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    // Behind a proxy the operator sets this; locally it keeps the real client address in logs.
    trustProxy: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  const apiKeys = createApiKeysRepository(deps.mongo.db);
  await apiKeys.ensureIndexes();
  // Before any route, so every route (and its config) is seen by the auth hooks.
  await app.register(authPlugin, { apiKeys, adminApiKey: deps.config.ADMIN_API_KEY });
  await registerSwagger(app);
  await app.register(healthRoutes, { deps });
  await app.register(apiKeyRoutes, { apiKeys });
  const journeys = createJourneysRepository(deps.mongo.db);
  await journeys.ensureIndexes();
  await app.register(journeyRoutes, { journeys });
  return app;
}
