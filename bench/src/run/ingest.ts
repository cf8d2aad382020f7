/**
 * Ingest benchmark (issue 6, benchmark 2): HTTP load with autocannon on the engine's POST /v1/events, one event per
 * request and batches of 100, against a bare Fastify route that parses the same body and answers 202 doing nothing
 * (the ceiling), in the same run on the same machine. Accepted events are counted back from the Redis streams, so the
 * figures are of events really made durable, not of failed requests.
 *
 *   pnpm --filter @journey/bench bench:ingest [--seconds 10] [--connections 50]
 */
import { buildApp } from '@journey/api';
import { createLogger, readEnv, redisEnv } from '@journey/config';
import { connectMongo } from '@journey/mongo';
import { connectRedis, createEventsStream, createKeys } from '@journey/redis';
import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { intFlags } from '../lib/args.js';
import { measureCpu, type CpuSpent } from '../lib/cpu-meter.js';
import { postEventsLoad } from '../lib/load.js';
import { machineLine } from '../lib/machine.js';
import { benchServers, deletePrefix, printServerVersions } from '../lib/servers.js';
import { printTable } from '../lib/table.js';

const flags = intFlags({ seconds: 10, connections: 50 });
const ADMIN_KEY = `bench-${randomBytes(16).toString('hex')}`;

interface Scenario {
  target: 'engine' | 'ceiling';
  perRequest: 1 | 100;
}

interface Measured extends Scenario {
  requestsPerSecond: number;
  eventsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  ok: number;
  notOk: number;
  cpu: CpuSpent;
  loadCpuMs: number;
}

async function main(): Promise<void> {
  console.log(`Ingest benchmark on ${machineLine()}`);
  const services = await benchServers();
  const prefix = `bench${randomBytes(4).toString('hex')}`;
  const config = {
    // One key posts every request, faster than the per-key limit allows: the benchmark measures the ceiling.
    ...readEnv({
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      REDIS_PREFIX: prefix,
      RATE_LIMIT_PER_MINUTE: '0',
      ...redisEnv(services.redisTarget),
    }),
    MONGODB_URI: services.mongoUri,
    MONGODB_DB: `bench_${prefix}`,
  };
  const mongo = await connectMongo(services.mongoUri, config.MONGODB_DB);
  const redis = await connectRedis(services.redisTarget, 'command');
  await printServerVersions(mongo, redis);
  const engine = await buildApp({ config, logger: createLogger({ name: 'bench', level: 'silent' }), mongo, redis });
  const ceiling = Fastify({ logger: false, bodyLimit: config.BODY_LIMIT_BYTES });
  ceiling.post('/v1/events', async (request, reply) => {
    const body = request.body as { events?: unknown[] };
    return reply.code(202).send({ accepted: Array.isArray(body.events) ? body.events.length : 1, duplicates: 0, rejected: [] });
  });
  const urls = {
    engine: await engine.listen({ host: '127.0.0.1', port: 0 }),
    ceiling: await ceiling.listen({ host: '127.0.0.1', port: 0 }),
  };

  const results: Measured[] = [];
  try {
    for (const perRequest of [1, 100] as const) {
      for (const target of ['engine', 'ceiling'] as const) {
        console.log(`\n${target}, ${perRequest === 1 ? 'single events' : 'batches of 100'}, ${flags.seconds} s:`);
        const { result, cpu } = await measureCpu(redis, () => load({ target, perRequest }, urls[target]));
        results.push({ ...result, cpu });
      }
    }

    // Every 2xx of the engine must be events in the streams (no worker runs, so nothing was drained yet). Requests
    // still in flight when a run's time was up were accepted but not counted: at most one per connection.
    const inStreams = (await createEventsStream(redis, createKeys(prefix)).lengths()).reduce((sum, length) => sum + length, 0);
    const engineRuns = results.filter((r) => r.target === 'engine');
    const claimed = engineRuns.reduce((sum, r) => sum + r.ok * r.perRequest, 0);
    const inFlight = engineRuns.reduce((sum, r) => sum + connectionsOf(r) * r.perRequest, 0);
    const failed = results.reduce((sum, r) => sum + r.notOk, 0);

    console.log('');
    console.table(
      results.map((r) => ({
        target: r.target,
        body: r.perRequest === 1 ? 'single event' : 'batch of 100',
        'requests/s': Math.round(r.requestsPerSecond),
        'events/s': Math.round(r.eventsPerSecond),
        'p50 ms': r.p50Ms,
        'p99 ms': r.p99Ms,
        '2xx': r.ok,
        'non-2xx': r.notOk,
      })),
    );
    for (const perRequest of [1, 100] as const) {
      const engineRun = results.find((r) => r.target === 'engine' && r.perRequest === perRequest)!;
      const ceilingRun = results.find((r) => r.target === 'ceiling' && r.perRequest === perRequest)!;
      console.log(
        `${perRequest === 1 ? 'single events' : 'batches of 100'}: engine at ${((engineRun.eventsPerSecond / ceilingRun.eventsPerSecond) * 100).toFixed(1)}% of the ceiling`,
      );
    }
    const batched = results.find((r) => r.target === 'engine' && r.perRequest === 100)!;
    const batchedCeiling = results.find((r) => r.target === 'ceiling' && r.perRequest === 100)!;
    printCpu(results, batched, batchedCeiling);
    console.log(
      `targets: batched ingest > 50,000 events/s: ${batched.eventsPerSecond > 50_000 ? 'met' : 'NOT met'} (${Math.round(batched.eventsPerSecond)}); ` +
        `>= half the ceiling: ${batched.eventsPerSecond >= batchedCeiling.eventsPerSecond / 2 ? 'met' : 'NOT met'}`,
    );
    console.log(
      `durable check: ${inStreams} events in the Redis streams for ${claimed} accepted by counted 2xx answers (+ at most ${inFlight} in flight at the end)`,
    );
    if (failed > 0) throw new Error(`${failed} requests did not get a 2xx`);
    if (inStreams < claimed || inStreams > claimed + inFlight) {
      throw new Error(`the streams hold ${inStreams} events, the 2xx answers claimed ${claimed} (+ at most ${inFlight} in flight)`);
    }
  } finally {
    await engine.close();
    await ceiling.close();
    await deletePrefix(redis, prefix);
    await mongo.db.dropDatabase().catch(() => undefined);
    await Promise.allSettled([redis.quit(), mongo.close()]);
    await services.stop();
  }
}

/**
 * Where the machine's CPU went per 1,000 accepted events, and what half the ceiling would take at that cost: the
 * server's event loop is one thread, and the server, Redis and the load generator share the machine's cores.
 */
function printCpu(results: Measured[], batched: Measured, batchedCeiling: Measured): void {
  const perThousand = (ms: number, r: Measured) => Math.round((ms / ((r.ok * r.perRequest) / 1000)) * 100) / 100;
  printTable(
    'CPU ms per 1,000 accepted events',
    results.map((r) => ({
      target: r.target,
      body: r.perRequest === 1 ? 'single event' : 'batch of 100',
      'server event loop busy': perThousand(r.cpu.mainThreadBusyMs, r),
      'event loop utilization': Math.round((r.cpu.mainThreadBusyMs / r.cpu.wallMs) * 100) / 100,
      'server process': perThousand(r.cpu.processCpuMs, r),
      Redis: perThousand(r.cpu.redisCpuMs, r),
      'load generator': perThousand(r.loadCpuMs, r),
      'machine cores busy': Math.round(((r.cpu.processCpuMs + r.cpu.redisCpuMs + r.loadCpuMs) / r.cpu.wallMs) * 100) / 100,
    })),
  );
  const half = batchedCeiling.eventsPerSecond / 2;
  const events = (batched.ok * batched.perRequest) / 1000;
  const loopCores = (half * (batched.cpu.mainThreadBusyMs / events)) / 1e6;
  const machineCores = (half * ((batched.cpu.processCpuMs + batched.cpu.redisCpuMs + batched.loadCpuMs) / events)) / 1e6;
  console.log(
    `half the batch ceiling, ${Math.round(half).toLocaleString('en-US')} events/s, at this run's cost per event would keep the server's event loop ` +
      `busy for ${loopCores.toFixed(2)} s of every second (it has one) and need ${machineCores.toFixed(2)} cores (server, Redis and load generator) of the machine's ${availableParallelism()}`,
  );
}

/** One autocannon run, in a child process so that it does not compete with the server for its event loop. */
async function load(scenario: Scenario, url: string): Promise<Omit<Measured, 'cpu'>> {
  const output = await postEventsLoad({
    url,
    authorization: `Bearer ${ADMIN_KEY}`,
    perRequest: scenario.perRequest,
    connections: connectionsOf(scenario),
    seconds: flags.seconds,
    idPrefix: `${scenario.target}-${scenario.perRequest}`,
  });
  return {
    ...scenario,
    requestsPerSecond: output.ok / output.seconds,
    eventsPerSecond: (output.ok * scenario.perRequest) / output.seconds,
    p50Ms: output.p50Ms,
    p99Ms: output.p99Ms,
    ok: output.ok,
    notOk: output.notOk,
    loadCpuMs: output.cpuMs,
  };
}

/** Batches of 100 need fewer connections to keep the server busy. */
function connectionsOf(scenario: Scenario): number {
  return scenario.perRequest === 1 ? flags.connections : Math.max(1, Math.round(flags.connections / 5));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
