import { pingMongo } from '@journey/mongo';
import { checkRedis, type RedisClient } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../deps.js';

const CheckSchema = z.object({
  status: z.enum(['ok', 'fail']),
  latencyMs: z.number().optional(),
  error: z.string().optional(),
});
const RedisCheckSchema = CheckSchema.extend({
  cluster: z
    .object({ state: z.string(), masters: z.number(), slotsOk: z.number(), knownNodes: z.number() })
    .optional()
    .describe("A Redis Cluster's own view (CLUSTER INFO of every master), when the engine runs on one (REDIS_CLUSTER_NODES)"),
});
const HealthSchema = z
  .object({ status: z.enum(['ok', 'fail']), checks: z.object({ redis: RedisCheckSchema, mongodb: CheckSchema }) })
  .meta({ id: 'Health' });

async function check(probe: () => Promise<number>): Promise<z.infer<typeof CheckSchema>> {
  try {
    return { status: 'ok', latencyMs: await probe() };
  } catch (error) {
    return failed(error);
  }
}

function failed(error: unknown): z.infer<typeof CheckSchema> {
  return { status: 'fail', error: error instanceof Error ? error.message : String(error) };
}

/** A cluster is ok only when every master says so with every slot served (a PING alone says nothing of MOVED or CLUSTERDOWN). */
async function checkRedisStore(redis: RedisClient): Promise<z.infer<typeof RedisCheckSchema>> {
  try {
    const { latencyMs, cluster } = await checkRedis(redis);
    return cluster ? { status: 'ok', latencyMs, cluster } : { status: 'ok', latencyMs };
  } catch (error) {
    return failed(error);
  }
}

/**
 * Liveness with dependencies: 200 when Redis (every master of a cluster, all slots served) and MongoDB answer, 503
 * (never a crash) when one does not.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ deps: AppDeps }> = async (app, { deps }) => {
  app.get(
    '/health',
    {
      config: { public: true },
      schema: {
        tags: ['health'],
        summary: 'Checks Redis (a cluster: its state) and MongoDB',
        security: [],
        response: { 200: HealthSchema, 503: HealthSchema },
      },
    },
    async (_request, reply) => {
      const [redis, mongodb] = await Promise.all([checkRedisStore(deps.redis), check(() => pingMongo(deps.mongo.db))]);
      const status = redis.status === 'ok' && mongodb.status === 'ok' ? 'ok' : 'fail';
      return reply.code(status === 'ok' ? 200 : 503).send({ status, checks: { redis, mongodb } });
    },
  );
};
