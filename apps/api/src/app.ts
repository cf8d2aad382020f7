import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { webhookRetryPolicy } from '@journey/config';
import { createStores } from '@journey/stores';
import { createWebhookChannel } from '@journey/webhook';
import type { AppDeps } from './deps.js';
import { authPlugin } from './plugins/auth.js';
import { registerContentTypes } from './plugins/content-types.js';
import { registerDashboard } from './plugins/dashboard.js';
import { handleClientError, handleFrameworkError, registerErrorHandler } from './plugins/error-handler.js';
import { registerRateLimit } from './plugins/rate-limit.js';
import { metricsPlugin } from './plugins/metrics.js';
import { registerSwagger } from './plugins/swagger.js';
import { apiKeyRoutes } from './routes/api-keys.js';
import { healthRoutes } from './routes/health.js';
import { journeyMapRoutes } from './routes/journey-map.js';
import { journeyRoutes } from './routes/journeys.js';
import { opsRoutes } from './routes/ops.js';
import { entryRoutes } from './routes/entries.js';
import { eventRoutes } from './routes/events.js';
import { statsRoutes } from './routes/stats.js';
import { userRoutes } from './routes/users.js';
import { createEntriesService } from './services/entries.js';
import { createIngest } from './services/ingest.js';
import { createOpsSnapshot } from './services/ops-snapshot.js';
import { createUsersService } from './services/users.js';
import { createJourneyVersions } from './services/journey-versions.js';
import { createSimulationService } from './services/simulation.js';
import { simulationRoutes } from './routes/simulation.js';

/** The Fastify instance every plugin of the API is registered on. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;

/** The HTTP edge: parse, call the domain, shape the answer. Stores come in through `deps`. */
export async function buildApp(deps: AppDeps): Promise<App> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    // Behind a proxy the operator sets this; locally it keeps the real client address in logs.
    trustProxy: false,
    // Path parameters are measured URL-encoded: a valid user id (128 UTF-16 units, at most 9 characters each once
    // encoded) must reach its schema, which gives the contract's 400 for a bad one, instead of the router's 414.
    routerOptions: { maxParamLength: 2048 },
    // Refusals made before a route runs get the contract's error body too.
    frameworkErrors: handleFrameworkError,
    clientErrorHandler: handleClientError,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  registerContentTypes(app);
  const stores = createStores(deps.config, deps, { onQueueError: (err, name) => app.log.debug({ err }, `${name} queue connection error`) });
  await stores.ensureIndexes();
  app.addHook('onClose', () => stores.close());
  // Before any route, so every route (and its config) is seen by the auth hooks.
  await app.register(authPlugin, { apiKeys: stores.apiKeys, adminApiKey: deps.config.ADMIN_API_KEY });
  // After auth (its hooks run after the auth hook, keyed by the key it found), before any route.
  await registerRateLimit(app, deps.config.RATE_LIMIT_PER_MINUTE);
  await registerSwagger(app);
  // The operators' view reads every queue of the engine; the drain queue also takes the API's appends below.
  const queues = { drain: stores.drainQueue.queues, dispatch: stores.dispatchQueue.queues, schedule: [stores.scheduleQueue.queue] };
  const snapshot = createOpsSnapshot({ ...stores, queues });
  await app.register(metricsPlugin, { snapshot });
  await app.register(healthRoutes, { deps });
  await app.register(opsRoutes, { snapshot });
  await registerDashboard(app, Object.values(queues).flat());
  await app.register(apiKeyRoutes, { apiKeys: stores.apiKeys });
  await app.register(journeyRoutes, { journeys: stores.journeys, revision: stores.revision, states: stores.states, stats: stores.stats });

  // Ingestion: everything that changes a user's journeys is appended to the user's event partition. The fail-fast
  // command connection serves BullMQ's adds too: an add fails at once during an outage (and is only logged),
  // instead of waiting in an offline queue while the request hangs.
  const ingest = createIngest({
    redis: deps.redis,
    events: stores.events,
    drains: stores.drainQueue,
    dedupWindowSeconds: deps.config.EVENT_DEDUP_WINDOW_SECONDS,
    logger: app.log,
  });
  await app.register(eventRoutes, { ingest });
  await app.register(userRoutes, { users: createUsersService({ ...stores, ingest }) });
  await app.register(entryRoutes, { entries: createEntriesService({ journeys: stores.journeys, ingest }) });
  await app.register(statsRoutes, { journeys: stores.journeys, stats: stores.stats });
  await app.register(journeyMapRoutes, { journeys: stores.journeys, stats: stores.stats });
  // Test sends go out through a webhook channel of the API's own, closed with it.
  const channel = createWebhookChannel({ attemptTimeoutMs: deps.config.WEBHOOK_ATTEMPT_TIMEOUT_MS });
  app.addHook('onClose', () => channel.close());
  const simulation = createSimulationService({
    versions: createJourneyVersions(stores.journeys),
    users: stores.users,
    retryPolicy: webhookRetryPolicy(deps.config),
    channel,
    now: Date.now,
  });
  await app.register(simulationRoutes, { simulation });
  return app;
}
