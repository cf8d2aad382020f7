/**
 * Dispatch benchmark (issue 6, benchmark 1): N users all due in the same second, through a journey whose first step
 * is a webhook message to a local sink; the engine's batched design against a naive one (one BullMQ job per user),
 * in the same run, on the same servers, each under its own key prefix and database.
 *
 * Per user step, each design's cost: worker CPU, Redis CPU, commands and round trips, MongoDB operations, writes and
 * bytes. `--profile 1` also profiles the batched design's dispatch (lib/cpu-profile.ts).
 *
 *   pnpm --filter @journey/bench bench:dispatch [--users 1000000] [--concurrency 20] [--max-minutes 60] [--profile 1]
 */
import type { RedisTarget } from '@journey/config';
import { createJourneyStatesRepository } from '@journey/mongo';
import { connectRedis, createDueSchedule, createKeys, type Keys } from '@journey/redis';
import { randomBytes } from 'node:crypto';
import { intFlags } from '../lib/args.js';
import { publishWebhookJourney } from '../lib/bench-journey.js';
import { measureDatabaseAlone } from '../lib/database-ceiling.js';
import { benchConfig, completedStates, startEngineDispatch } from '../lib/engine-dispatch.js';
import { machineLine } from '../lib/machine.js';
import { connectMeteredMongo, serverMemory, type MongoTraffic, type ServerMemory } from '../lib/mongo-meter.js';
import { createNaiveDesign } from '../lib/naive-dispatch.js';
import { waitWithProgress } from '../lib/progress.js';
import { createRedisMeter, type RedisPhase } from '../lib/redis-meter.js';
import { profileCpu } from '../lib/cpu-profile.js';
import { printStepCosts, withCpu } from '../lib/step-cost.js';
import { benchServers, deletePrefix, printLiveView, printServerVersions } from '../lib/servers.js';
import { startSink, type Sink } from '../lib/sink.js';
import { printTable, verdict } from '../lib/table.js';
import { enterUsers, scheduleFirstSteps } from '../lib/users.js';
import { runMain } from '../lib/run-main.js';

const flags = intFlags({ users: 1_000_000, concurrency: 20, 'max-minutes': 60, profile: 0 });
const n = flags.users;
const timeoutMs = flags['max-minutes'] * 60_000;

type Design = 'batched' | 'naive';

interface Measured {
  design: Design;
  enterMs: number;
  scheduleMs: number;
  scheduling: RedisPhase;
  dispatching: RedisPhase;
  /** CPU of this process while dispatching: the engine's worker (or the naive design's) and the meters. */
  dispatchCpuMs: number;
  mongoServerCpuMs: number | null;
  machineCpuMs: number;
  wallMs: number;
  jobs: number;
  writes: MongoTraffic;
  sinkRequests: number;
  failedJobs: number;
  /** The MongoDB server process's memory once this design's n states are committed (null: not on this machine). */
  serverMemory: ServerMemory | null;
}

async function main(): Promise<void> {
  console.log(`Dispatch benchmark, ${n.toLocaleString('en-US')} users, on ${machineLine()}`);
  const services = await benchServers();
  const sink = await startSink();
  const meterRedis = await connectRedis(services.redisTarget, 'command');
  const meter = createRedisMeter(meterRedis);
  const run = randomBytes(3).toString('hex');
  const results: Measured[] = [];
  let database: DatabaseOnly;
  try {
    console.log('\ndatabase alone (the bound of any design that reads and commits each user through this server):');
    database = await runDatabaseOnly(`bench${run}d`, services);
    for (const design of ['batched', 'naive'] as const) {
      console.log(`\n${design} design:`);
      results.push(await runDesign(design, `bench${run}${design[0]}`, services, sink, meter));
    }
  } finally {
    await sink.close();
    meterRedis.disconnect();
    await services.stop();
  }

  printTable(
    `Dispatch of ${n.toLocaleString('en-US')} users due in one second (webhook to a local sink)`,
    results.map((r) => ({
      design: r.design,
      'enter s': seconds(r.enterMs),
      'schedule s': seconds(r.scheduleMs),
      'dispatch wall s': seconds(r.wallMs),
      'users/s': Math.round(n / (r.wallMs / 1000)),
      'BullMQ jobs': r.jobs,
      'Redis cmds': r.dispatching.clientCommands + r.scheduling.clientCommands,
      'peak Redis MB': Math.round(Math.max(r.scheduling.peakMemory, r.dispatching.peakMemory) / 1e4) / 100,
      'bytes / waiting user': Math.round((r.scheduling.memoryAfter - r.scheduling.memoryBefore) / n),
      'Mongo write cmds': r.writes.commands,
      'Mongo writes': r.writes.statements,
      'writes / user': Math.round((r.writes.statements / n) * 100) / 100,
      'sink requests': r.sinkRequests,
      'failed attempts': r.failedJobs,
      'Mongo server RSS MB': r.serverMemory?.rssMb ?? null,
    })),
  );
  printStepCosts(
    'Cost per user step while dispatching',
    results.map((r) => ({
      label: r.design,
      steps: n,
      processCpuMs: r.dispatchCpuMs,
      mongoServerCpuMs: r.mongoServerCpuMs,
      machineCpuMs: r.machineCpuMs,
      redis: r.dispatching,
      mongo: r.writes,
    })),
  );
  for (const r of results) {
    const ms = Object.fromEntries(Object.entries(r.writes.msByCommand).map(([name, total]) => [name, Math.round(total)]));
    console.log(
      `${r.design}: MongoDB write statements by command ${JSON.stringify(r.writes.byCommand)}; server ms by command ${JSON.stringify(ms)}`,
    );
  }
  const batched = results.find((r) => r.design === 'batched')!;
  const naive = results.find((r) => r.design === 'naive')!;
  const ratio = naive.wallMs / batched.wallMs;
  const writesPerUser = batched.writes.statements / n;
  const bytesPerUser = (batched.scheduling.memoryAfter - batched.scheduling.memoryBefore) / n;
  const databasePace = n / (database.wallMs / 1000);
  console.log(
    `database alone: the engine's reads and commit of ${n.toLocaleString('en-US')} users, batched as it batches them, no Redis, queue or send: ` +
      `${seconds(database.wallMs)} s, ${Math.round(databasePace).toLocaleString('en-US')} users/s, ${database.writes.toLocaleString('en-US')} write statements`,
  );
  console.log(
    `batched design at ${percent(n / (batched.wallMs / 1000), databasePace)} of the database's pace, naive at ${percent(n / (naive.wallMs / 1000), databasePace)}; ` +
      `on this server no design can beat the naive one by more than ${(databasePace / (n / (naive.wallMs / 1000))).toFixed(2)}x`,
  );
  console.log(`\nbatched / naive users per second: ${ratio.toFixed(2)}x`);
  const usersPerSecond = n / (batched.wallMs / 1000);
  const commandsPerStep = batched.dispatching.clientCommands / n;
  const serverCommandsPerStep = batched.dispatching.allCommands / n;
  console.log(
    `target >= 5,000 users/s: ${verdict(usersPerSecond >= 5_000, `${Math.round(usersPerSecond).toLocaleString('en-US')} users/s`)}`,
  );
  console.log(`target >= 5x naive: ${verdict(ratio >= 5, `${ratio.toFixed(2)}x`)}`);
  console.log(
    `target <= 6 Redis commands per user step: sent ${verdict(commandsPerStep <= 6, commandsPerStep.toFixed(2))}; ` +
      `run by Redis, scripts' own included, ${verdict(serverCommandsPerStep <= 6, serverCommandsPerStep.toFixed(2))}`,
  );
  console.log(`target <= 1 MongoDB write per user step: ${verdict(writesPerUser <= 1, `${writesPerUser.toFixed(2)}`)}`);
  console.log(`target < 100 bytes Redis per waiting user: ${verdict(bytesPerUser < 100, `${bytesPerUser.toFixed(1)} bytes`)}`);
  // Failed attempts are retried by BullMQ and shown above; a design that did not deliver every user once is an error.
  const wrong = results.filter((r) => r.sinkRequests !== n);
  if (wrong.length > 0) throw new Error(`designs whose sink did not count one request per user: ${wrong.map((r) => r.design).join(', ')}`);
}

async function runDesign(
  design: Design,
  prefix: string,
  services: { redisTarget: RedisTarget; mongoUri: string },
  sink: Sink,
  meter: ReturnType<typeof createRedisMeter>,
): Promise<Measured> {
  const config = benchConfig(services, prefix, `bench_${prefix}`);
  const keys: Keys = createKeys(prefix);
  const mongo = await connectMeteredMongo(services.mongoUri, config.MONGODB_DB);
  const redis = await connectRedis(services.redisTarget, 'blocking');
  const naive = design === 'naive';
  try {
    if (design === 'batched') await printServerVersions(mongo, redis);
    printLiveView(services, prefix);
    const journey = await publishWebhookJourney(mongo, sink.url);
    const states = createJourneyStatesRepository(mongo.db);
    await states.ensureIndexes();
    const enterMs = await enterUsers(mongo.db, journey, n, Date.now());

    const dueSecond = Math.floor(Date.now() / 1000);
    const naiveDesign = naive
      ? createNaiveDesign({
          redis,
          redisTarget: services.redisTarget,
          mongo,
          keys,
          journey,
          sinkUrl: sink.url,
          concurrency: flags.concurrency,
        })
      : undefined;
    const scheduled = await meter.measure(() =>
      naiveDesign ? naiveDesign.schedule(n, dueSecond) : scheduleFirstSteps(createDueSchedule(redis, keys), journey, n, dueSecond),
    );

    mongo.reset();
    await sink.reset();
    let jobs = 0;
    let engineFailures = 0;
    const dispatch = () =>
      meter.measure(async () => {
        const started = performance.now();
        const engine = naiveDesign ? undefined : await startEngineDispatch({ config, mongo, keys });
        if (naiveDesign) await naiveDesign.start();
        try {
          await waitWithProgress(`${design}: sends at the sink`, n, () => sink.count(), { timeoutMs });
          // Commits are counted as their replies come; the count then confirms, outside the wall time, and is waited on
          // only if it disagrees.
          await waitWithProgress(`${design}: states committed`, n, () => mongo.traffic().modified, { timeoutMs });
          const wallMs = performance.now() - started;
          if ((await completedStates(mongo, journey.journeyId)) === n) return wallMs;
          await waitWithProgress(`${design}: states completed (count)`, n, () => completedStates(mongo, journey.journeyId), {
            timeoutMs,
            intervalMs: 250,
          });
          return performance.now() - started;
        } finally {
          jobs = engine ? engine.jobsAdded() : n;
          engineFailures = engine ? engine.jobsFailed() : 0;
          await engine?.close();
        }
      });
    const {
      result: dispatched,
      cpuMs: dispatchCpuMs,
      mongoServerCpuMs,
      machineCpuMs,
    } = await withCpu(mongo, () => (flags.profile && !naive ? profileCpu(`dispatch-${design}`, dispatch) : dispatch()));
    const failedJobs = naiveDesign ? naiveDesign.failures() : engineFailures;
    await naiveDesign?.close();
    const memory = await serverMemory(mongo);
    if (memory)
      console.log(
        `MongoDB server process with ${n.toLocaleString('en-US')} states committed: RSS ${memory.rssMb} MB, peak so far ${memory.peakMb} MB`,
      );
    return {
      design,
      enterMs,
      scheduleMs: scheduled.result,
      scheduling: scheduled.redis,
      dispatching: dispatched.redis,
      dispatchCpuMs,
      mongoServerCpuMs,
      machineCpuMs,
      wallMs: dispatched.result,
      jobs,
      writes: mongo.traffic(),
      sinkRequests: await sink.count(),
      failedJobs,
      serverMemory: memory,
    };
  } finally {
    await deletePrefix(redis, prefix);
    await mongo.db.dropDatabase().catch(() => undefined);
    await mongo.close();
    redis.disconnect();
  }
}

interface DatabaseOnly {
  wallMs: number;
  writes: number;
}

/** The database's own pace (lib/database-ceiling.ts) on a database of its own, with the engine's batch concurrency. */
async function runDatabaseOnly(prefix: string, services: { redisTarget: RedisTarget; mongoUri: string }): Promise<DatabaseOnly> {
  const config = benchConfig(services, prefix, `bench_${prefix}`);
  const mongo = await connectMeteredMongo(services.mongoUri, config.MONGODB_DB);
  try {
    const wallMs = await measureDatabaseAlone(mongo, {
      n,
      concurrency: config.WORKER_CONCURRENCY,
      timeoutMs,
      afterEntering: () => mongo.reset(),
    });
    return { wallMs, writes: mongo.traffic().statements };
  } finally {
    await mongo.close();
  }
}

function percent(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1)}%`;
}

function seconds(ms: number): number {
  return Math.round(ms / 10) / 100;
}

runMain(main);
