import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

export const DASHBOARD_PATH = '/ops/dashboard';

/**
 * The operators' queue dashboard (bull-board) at /ops/dashboard, behind the `ops` scope like /v1/ops/queues. A browser
 * cannot send a bearer header, so these routes also take HTTP Basic with the API key as password (any user name), and
 * a missing key gets the Basic challenge that makes the browser ask for it.
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
      route.config = { ...route.config, scopes: ['ops'], browserAuth: true };
      // Its own routes, in the OpenAPI document they would only be noise.
      route.schema = { ...route.schema, hide: true };
    });
    await dashboard.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
  });
}
