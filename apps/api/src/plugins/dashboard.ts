import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import { isRecord } from '@journey/core';
import type { FastifyInstance } from 'fastify';
import { handleError } from './error-handler.js';

export const DASHBOARD_PATH = '/ops/dashboard';

/** Methods that only read: every bull-board route that changes a queue or a job is a PUT, POST or PATCH. */
const READS: ReadonlySet<string> = new Set(['GET', 'HEAD']);

/**
 * The operators' queue dashboard (bull-board) at /ops/dashboard. Reading it takes an `ops` (or admin) key, like
 * /v1/ops/queues; acting on a queue (pause, add, retry, clean, empty, obliterate, ...) takes an `admin` key. The
 * board itself is writable: bull-board's read-only mode is per queue for everyone, while this rule is per caller.
 * A browser cannot send a bearer header, so these routes also take HTTP Basic with the API key as password (any
 * user name), and a missing key gets the Basic challenge that makes the browser ask for it.
 */
export async function registerDashboard(app: FastifyInstance, queues: readonly Queue[]): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Journey engine' } },
  });
  await app.register(async (dashboard) => {
    dashboard.addHook('onRoute', (route) => {
      const reads = [route.method].flat().every((method) => READS.has(method));
      // Without scopes a route is admin-only.
      route.config = { ...route.config, ...(reads ? { scopes: ['ops'] as const } : {}), browserAuth: true };
      // Its own routes, in the OpenAPI document they would only be noise.
      route.schema = { ...route.schema, hide: true };
      // bull-board sets its own error handler, which answers 500 with its own body; errors here get the contract's.
      route.errorHandler = handleError;
    });
    // The board's UI hides a queue's actions when the queue says it is read-only: so it does to callers who may
    // only read. The routes refuse their actions either way.
    dashboard.addHook('preSerialization', async (request, _reply, payload: unknown) => {
      if (request.apiKey?.scope === 'admin' || request.routeOptions.url !== `${DASHBOARD_PATH}/api/queues`) return payload;
      if (!isRecord(payload) || !Array.isArray(payload.queues)) return payload;
      return {
        ...payload,
        queues: payload.queues.map((queue: unknown) => (isRecord(queue) ? { ...queue, readOnlyMode: true, allowRetries: false } : queue)),
      };
    });
    await dashboard.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
