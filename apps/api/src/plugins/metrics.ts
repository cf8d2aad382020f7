import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OpsQueues } from '../schemas/ops.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Counts the outcome of one POST /v1/events (the ingest counters of /metrics). */
    countIngested(counts: { accepted: number; duplicates: number; rejected: number }): void;
  }
}

export interface MetricsOptions {
  /** The operators' snapshot: read once per scrape, so /metrics shows the figures of /v1/ops/queues. */
  snapshot: () => Promise<OpsQueues>;
}

/**
 * GET /metrics in Prometheus text. A registry per app (not prom-client's global one), so several apps in one process
 * (tests, a benchmark) do not share or clash. Figures that live in Redis are read at scrape time, never cached.
 */
export const metricsPlugin = fp<MetricsOptions>(
  async (app, { snapshot }) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry, prefix: 'journey_api_' });

    const httpDuration = new Histogram({
      name: 'journey_http_request_duration_seconds',
      help: 'HTTP request latency by method, route and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
    const ingested = new Counter({
      name: 'journey_events_ingested_total',
      help: 'Events posted to POST /v1/events, by outcome: accepted (durable), duplicate (id seen before), rejected (invalid)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    });
    for (const outcome of ['accepted', 'duplicate', 'rejected']) ingested.inc({ outcome }, 0);

    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Gauge<L>({ name, help, labelNames, registers: [registry] });
    const queueJobs = gauge('journey_queue_jobs', 'BullMQ jobs per queue and state', ['queue', 'state']);
    const dueSets = gauge('journey_due_sets', 'Due sets (branch and second) still holding users');
    const usersWaiting = gauge('journey_users_waiting', 'Users in due sets, not yet carved into a batch');
    const lag = gauge('journey_due_lag_seconds', 'How far the oldest due set is behind now');
    const unfinished = gauge('journey_unfinished_batches', 'Batches carved and not yet finished');
    const pending = gauge('journey_events_pending', 'Accepted events not yet applied');
    const deadLetters = gauge('journey_events_dead_letters', 'Records that failed to apply too often and were set aside');
    const opsUp = gauge('journey_ops_snapshot_up', '1 when the Redis figures below were read at this scrape, 0 when Redis did not answer');
    const rate = gauge(
      'journey_dispatch_per_second',
      'Dispatch over the last full minute, per second: users dispatched and sends by outcome',
      ['counter'],
    );

    app.decorate('countIngested', ({ accepted, duplicates, rejected }) => {
      if (accepted > 0) ingested.inc({ outcome: 'accepted' }, accepted);
      if (duplicates > 0) ingested.inc({ outcome: 'duplicate' }, duplicates);
      if (rejected > 0) ingested.inc({ outcome: 'rejected' }, rejected);
    });

    app.addHook('onResponse', async (request, reply) => {
      // Unmatched URLs share one label, so scanners cannot blow up the label set.
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
    });

    app.get(
      '/metrics',
      { config: { public: true }, schema: { tags: ['health'], summary: 'Prometheus metrics', security: [] } },
      async (request, reply) => {
        // Redis down must not hide the HTTP figures: the Redis gauges keep their last values and opsUp says 0.
        const ops = await snapshot().catch((err: unknown) => {
          request.log.warn({ err }, "metrics: could not read the operators' figures from Redis");
          return null;
        });
        opsUp.set(ops ? 1 : 0);
        if (ops) setOpsGauges(ops);
        return reply.type(registry.contentType).send(await registry.metrics());
      },
    );

    function setOpsGauges(ops: OpsQueues): void {
      for (const queue of ops.queues) {
        for (const [state, count] of Object.entries(queue.counts)) queueJobs.set({ queue: queue.name, state }, count);
      }
      dueSets.set(ops.batches.dueSets);
      usersWaiting.set(ops.batches.usersWaiting);
      lag.set(ops.batches.lagSeconds);
      unfinished.set(ops.batches.unfinishedBatches);
      pending.set(ops.events.pending);
      deadLetters.set(ops.events.deadLetters);
      for (const [counter, value] of Object.entries(ops.rates.perSecond)) rate.set({ counter }, value);
    }
  },
  { name: 'journey-metrics', fastify: '5.x' },
);
