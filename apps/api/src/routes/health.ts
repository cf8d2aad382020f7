import { pingMongo } from '@journey/mongo';
import { pingRedis } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';

const CheckSchema = z.object({
  status: z.enum(['ok', 'fail']),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});
const HealthSchema = z
  .object({ status: z.enum(['ok', 'fail']), checks: z.object({ redis: CheckSchema, mongodb: CheckSchema }) })
  .meta({ id: 'Health' });

async function check(probe: () => Promise<number>): Promise<z.infer<typeof CheckSchema>> {
  try {
    return { status: 'ok', latencyMs: await probe() };
  } catch (error) {
    return { status: 'fail', error: error instanceof Error ? error.message : String(error) };
  }
}

/** Liveness with dependencies: 200 when Redis and MongoDB answer, 503 (never a crash) when one does not. */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Checks Redis and MongoDB',
        security: [],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const [redis, mongodb] = await Promise.all([check(() => pingRedis(deps.redis)), check(() => pingMongo(deps.mongo.db))]);
      const status = redis.status === 'ok' && mongodb.status === 'ok' ? 'ok' : 'fail';
      return reply.code(status === 'ok' ? 200 : 503).send({ status, checks: { redis, mongodb } });
    },
  );
};
