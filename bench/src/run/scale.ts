/**
 * Scaling benchmark (issue 18): the same users dispatched by 1, 2 and 4 worker processes (apps/worker's main, as
 * `npm start` runs it), on a single Redis and on a 3-master Redis Cluster, with one MongoDB. For each:
 *  - idle: the Redis commands per second the workers send while nothing is due (their polling);
 *  - burst: N users due in one second, one webhook each to a local sink: users/s from the start of scheduling to the
 *    last send, and users per batch;
 *  - trickle: T more users becoming due R a second (a slice every 100 ms, as entries from events arrive): users per
 *    batch, which is what polling more often or from more carvers shrinks.
 *
 *   pnpm --filter @journey/bench bench:scale [--users 10000] [--trickle-users 2000] [--trickle-rate 400] [--max-minutes 20]
 *
 * REDIS_URL / REDIS_CLUSTER_NODES / MONGODB_URI name servers to use instead of embedded ones.
 */
import { redisEnv, type RedisTarget } from '@journey/config';
import { firstStep } from '@journey/core';
import { consoleLog, provideRedisCluster, type Services } from '@journey/embedded';
import { connectMongo, createJourneyStatesRepository } from '@journey/mongo';
import { connectRedis, createDueSchedule, createKeys, duplicateRedis, type Keys, type RedisClient } from '@journey/redis';
import { QueueEvents } from 'bullmq';
import { Cluster } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { intFlags } from '../lib/args.js';
import { publishWebhookJourney, type PublishedJourney } from '../lib/bench-journey.js';
import { machineLine } from '../lib/machine.js';
import { machineCpuSeconds, processCpuSeconds } from '../lib/proc-cpu.js';
import { waitWithProgress } from '../lib/progress.js';
import { infoNumber, redisVersion } from '../lib/redis-meter.js';
import { benchServers, deletePrefix } from '../lib/servers.js';
import { startSink, type Sink } from '../lib/sink.js';
import { printTable } from '../lib/table.js';
import { benchUser, enterUsers } from '../lib/users.js';
import { runMain } from '../lib/run-main.js';
import { startWorkerProcesses } from '../lib/worker-processes.js';

const flags = intFlags({ users: 10_000, 'trickle-users': 2_000, 'trickle-rate': 400, 'max-minutes': 20 });
const WORKER_COUNTS = [1, 2, 4] as const;
const IDLE_SECONDS = 5;
const timeoutMs = flags['max-minutes'] * 60_000;

interface Measured {
  redis: string;
  workers: number;
  idleCommandsPerSecond: number;
  burstUsersPerSecond: number;
  /** CPU seconds per second of the burst: the worker processes, Redis (every node), the whole machine. */
  burstCores: { workers: number; redis: number; machine: number };
  burstBatches: number;
  trickleBatches: number;
  problems: number;
}

async function main(): Promise<void> {
  const users = flags.users;
  const trickle = flags['trickle-users'];
  console.log(
    `Scaling benchmark: ${users.toLocaleString('en-US')} users due at once, then ${trickle.toLocaleString('en-US')} more at ` +
      `${flags['trickle-rate']}/s, with ${WORKER_COUNTS.join(', ')} worker processes, on ${machineLine()}`,
  );
  const services = await benchServers();
  const cluster = await provideRedisCluster({ log: consoleLog });
  console.log(`Redis Cluster: ${cluster.description}`);
  const sink = await startSink();
  const results: Measured[] = [];
  try {
    for (const [name, target] of [
      ['single', services.redisTarget],
      ['cluster', cluster.target],
    ] as const) {
      for (const workers of WORKER_COUNTS) {
        console.log(`\n${name} Redis, ${workers} worker process(es):`);
        results.push(await runOnce(name, target, workers, services, sink));
      }
    }
  } finally {
    await sink.close();
    await cluster.stop();
    await services.stop();
  }

  printTable(
    `Dispatch by 1, 2 and 4 worker processes: ${users.toLocaleString('en-US')} users due at once, ${trickle.toLocaleString('en-US')} due ${flags['trickle-rate']}/s`,
    results.map((r) => ({
      redis: r.redis,
      workers: r.workers,
      'idle Redis cmds/s': Math.round(r.idleCommandsPerSecond),
      'burst users/s': Math.round(r.burstUsersPerSecond),
      'burst cores: workers': round2(r.burstCores.workers),
      Redis: round2(r.burstCores.redis),
      'machine (of 2)': round2(r.burstCores.machine),
      'burst batches': r.burstBatches,
      'burst fill (users/batch)': Math.round((users / r.burstBatches) * 10) / 10,
      'trickle batches': r.trickleBatches,
      'trickle fill (users/batch)': Math.round((trickle / r.trickleBatches) * 10) / 10,
      'worker warnings': r.problems,
    })),
  );
}

async function runOnce(
  name: string,
  target: RedisTarget,
  workers: number,
  services: Pick<Services, 'mongoUri'>,
  sink: Sink,
): Promise<Measured> {
  const prefix = `bench${randomBytes(3).toString('hex')}s`;
  const keys = createKeys(prefix);
  const mongo = await connectMongo(services.mongoUri, `bench_${prefix}`);
  const redis = await connectRedis(target, 'command');
  await sink.reset();
  try {
    if (workers === WORKER_COUNTS[0]) console.log(`Redis server: ${await redisVersion(redis)}`);
    const journey = await publishWebhookJourney(mongo, sink.url);
    const states = createJourneyStatesRepository(mongo.db);
    await states.ensureIndexes();
    await enterUsers(mongo.db, journey, flags.users + flags['trickle-users'], Date.now());

    const batches = await countBatches(target, keys);
    const fleet = await startWorkerProcesses(workers, {
      ...redisEnv(target),
      MONGODB_URI: services.mongoUri,
      MONGODB_DB: mongo.db.databaseName,
      REDIS_PREFIX: prefix,
    });
    try {
      const idleCommandsPerSecond = await idleCommands(redis);
      console.log(`idle: ${Math.round(idleCommandsPerSecond)} Redis commands/s`);

      const dueSchedule = createDueSchedule(redis, keys);
      const cpuBefore = await cpuSeconds(redis, fleet.pids);
      const started = performance.now();
      await schedule(dueSchedule, journey, 0, flags.users);
      await waitWithProgress('burst: sends at the sink', flags.users, () => sink.count(), { timeoutMs });
      const burstMs = performance.now() - started;
      const cpuAfter = await cpuSeconds(redis, fleet.pids);
      const perSecond = (key: 'workers' | 'redis') => (cpuAfter[key] - cpuBefore[key]) / (burstMs / 1000);
      const machine = (cpuAfter.machine.busy - cpuBefore.machine.busy) / (cpuAfter.machine.total - cpuBefore.machine.total);
      const burstBatches = batches.added();

      // A slice every 100 ms, due the second it is scheduled in, until the trickle's users are all due.
      const slice = Math.max(1, Math.round(flags['trickle-rate'] / 10));
      for (let first = flags.users; first < flags.users + flags['trickle-users']; first += slice) {
        const next = new Promise((resolve) => setTimeout(resolve, 100));
        await schedule(dueSchedule, journey, first, Math.min(first + slice, flags.users + flags['trickle-users']));
        await next;
      }
      await waitWithProgress('trickle: sends at the sink', flags.users + flags['trickle-users'], () => sink.count(), { timeoutMs });
      const trickleBatches = batches.added() - burstBatches;
      return {
        redis: name,
        workers,
        idleCommandsPerSecond,
        burstUsersPerSecond: flags.users / (burstMs / 1000),
        burstCores: { workers: perSecond('workers'), redis: perSecond('redis'), machine: machine * cpus().length },
        burstBatches,
        trickleBatches,
        problems: [...fleet.problems.values()].reduce((sum, count) => sum + count, 0),
      };
    } finally {
      await fleet.stop();
      await batches.close();
    }
  } finally {
    await deletePrefix(redis, prefix);
    await mongo.db.dropDatabase();
    await mongo.close();
    redis.disconnect();
  }
}

/** Schedules users first..end-1 due now (their first step), as entering them does. */
async function schedule(dueSchedule: ReturnType<typeof createDueSchedule>, journey: PublishedJourney, first: number, end: number) {
  const nowMs = Date.now();
  const members = Array.from({ length: end - first }, (_, offset) => {
    const { userId, entryId } = benchUser(journey.journeyId, first + offset);
    return firstStep(journey.journeyId, journey.version, journey.definition.start, userId, entryId, nowMs).member;
  });
  await dueSchedule.schedule(
    { journeyId: journey.journeyId, version: journey.version, stepId: journey.definition.start },
    Math.floor(nowMs / 1000),
    members,
  );
}

/** Batch jobs added to the dispatch queues from now on (QueueEvents `added`, a connection each: a blocking read). */
async function countBatches(target: RedisTarget, keys: Keys): Promise<{ added(): number; close(): Promise<void> }> {
  let added = 0;
  const blocking = await connectRedis(target, 'blocking');
  const events = keys.queues.dispatch.map((queue) => new QueueEvents(queue, { connection: duplicateRedis(blocking, {}) }));
  for (const each of events) each.on('added', () => added++);
  await Promise.all(events.map((each) => each.waitUntilReady()));
  return {
    added: () => added,
    close: async () => {
      await Promise.all(events.map((each) => each.close()));
      blocking.disconnect();
    },
  };
}

/** CPU seconds so far: of the worker processes, of Redis (INFO cpu of every node), and the machine's. */
async function cpuSeconds(redis: RedisClient, pids: readonly number[]) {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const redisCpu = await Promise.all(
    nodes.map(async (node) => {
      const text = await node.info('cpu');
      return infoNumber(text, 'used_cpu_user') + infoNumber(text, 'used_cpu_sys');
    }),
  );
  return {
    workers: pids.reduce((sum, pid) => sum + processCpuSeconds(pid), 0),
    redis: redisCpu.reduce((sum, each) => sum + each, 0),
    machine: machineCpuSeconds(),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Commands per second Redis (every master of a cluster) processes over a few idle seconds, the meter's own INFOs left out. */
async function idleCommands(redis: RedisClient): Promise<number> {
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const processed = async () =>
    (await Promise.all(nodes.map(async (node) => infoNumber(await node.info('stats'), 'total_commands_processed')))).reduce(
      (a, b) => a + b,
      0,
    );
  const before = await processed();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  const after = await processed();
  // The first reading's INFOs are counted in the second.
  return (after - before - nodes.length) / IDLE_SECONDS;
}

runMain(main);
