/**
 * Punctuality benchmark (issue 6, benchmark 3): N users due in the same second, each sent one webhook through the
 * engine's real batched dispatch; the sink records when each send arrives. Lateness = arrival - the due second's
 * start. The ceiling, in the same run: the time a plain HTTP client with the channel's connection limit needs to
 * deliver N requests to the same sink. Targets: p99 lateness under 25 s, and within 1.5 x ceiling + 1 s. Also the
 * cost per user step (lib/step-cost.ts); `--profile 1` profiles the dispatch (lib/cpu-profile.ts).
 *
 *   pnpm --filter @journey/bench bench:punctuality [--users 100000] [--connections 20] [--max-minutes 60] [--profile 1]
 */
import { connectMongo, createJourneyStatesRepository } from '@journey/mongo';
import { connectRedis, createDueSchedule, createKeys } from '@journey/redis';
import { randomBytes } from 'node:crypto';
import { intFlags } from '../lib/args.js';
import { publishWebhookJourney } from '../lib/bench-journey.js';
import { measureDatabaseAlone } from '../lib/database-ceiling.js';
import { benchConfig, completedStates, startEngineDispatch } from '../lib/engine-dispatch.js';
import { profileCpu } from '../lib/cpu-profile.js';
import { machineLine } from '../lib/machine.js';
import { connectMeteredMongo } from '../lib/mongo-meter.js';
import { createRedisMeter } from '../lib/redis-meter.js';
import { printStepCosts, withCpu, type PhaseCost } from '../lib/step-cost.js';
import { deliverPlain } from '../lib/plain-client.js';
import { waitWithProgress } from '../lib/progress.js';
import { benchServers, endRun, printLiveView, printServerVersions } from '../lib/servers.js';
import { startSink } from '../lib/sink.js';
import { printTable, verdict } from '../lib/table.js';
import { enterUsers, scheduleFirstSteps } from '../lib/users.js';
import { runMain } from '../lib/run-main.js';

// 20 = the webhook channel's default maxConnectionsPerOrigin: the engine's own limit towards one host.
const flags = intFlags({ users: 100_000, connections: 20, 'max-minutes': 60, profile: 0 });
/** The p99 lateness the engine must stay under at the default size. */
const P99_TARGET_MS = 25_000;
const n = flags.users;
const timeoutMs = flags['max-minutes'] * 60_000;

async function main(): Promise<void> {
  console.log(`Punctuality benchmark, ${n.toLocaleString('en-US')} users, on ${machineLine()}`);
  const services = await benchServers();
  const prefix = `bench${randomBytes(3).toString('hex')}p`;
  const config = benchConfig(services, prefix, `bench_${prefix}`);
  const keys = createKeys(prefix);
  const sink = await startSink();
  const mongo = await connectMeteredMongo(services.mongoUri, config.MONGODB_DB);
  const redis = await connectRedis(services.redisTarget, 'blocking');
  const meter = createRedisMeter(await connectRedis(services.redisTarget, 'command'));
  try {
    await printServerVersions(mongo, redis);
    printLiveView(services, prefix);
    const journey = await publishWebhookJourney(mongo, sink.url);
    const states = createJourneyStatesRepository(mongo.db);
    await states.ensureIndexes();
    await enterUsers(mongo.db, journey, n, Date.now());

    // The dispatcher runs before the users are due, as in production; the due second lies far enough ahead that
    // scheduling (measured here at well over 20,000 members/s) ends before it.
    const engine = await startEngineDispatch({ config, mongo, keys });
    const dueSecond = Math.ceil((Date.now() + 3_000 + n / 20) / 1000);
    const dueMs = dueSecond * 1000;
    await scheduleFirstSteps(createDueSchedule(redis, keys), journey, n, dueSecond);
    const scheduledAheadMs = dueMs - Date.now();
    console.log(`scheduled ${n} users ${(scheduledAheadMs / 1000).toFixed(2)} s before their due second`);
    mongo.reset();
    const dispatch = () =>
      meter.measure(async () => {
        await waitWithProgress('sends at the sink', n, () => sink.count(), { timeoutMs: timeoutMs + Math.max(0, dueMs - Date.now()) });
        await waitWithProgress('states committed', n, () => completedStates(mongo, journey.journeyId), { timeoutMs, intervalMs: 250 });
      });
    let cost: PhaseCost;
    try {
      const spent = await withCpu(mongo, () => (flags.profile ? profileCpu('punctuality', dispatch) : dispatch()));
      cost = {
        label: 'engine (batched dispatch)',
        steps: n,
        processCpuMs: spent.cpuMs,
        mongoServerCpuMs: spent.mongoServerCpuMs,
        machineCpuMs: spent.machineCpuMs,
        redis: spent.result.redis,
        mongo: mongo.traffic(),
      };
    } finally {
      await engine.close();
    }
    const lateness = (await sink.arrivals()).map((at) => at - dueMs).sort();
    const engineSends = lateness.length;
    const early = lateness.filter((ms) => ms < 0).length;

    await sink.reset();
    const body = JSON.stringify({
      messageId: 'x'.repeat(24),
      journeyId: journey.journeyId,
      version: 1,
      stepId: 'hello',
      branchId: null,
      userId: 'user-0000000',
      entryId: 'e'.repeat(12),
      payload: { text: 'Hello ' },
    });
    const ceilingMs = await waitForCeiling(() => deliverPlain(sink.url, n, flags.connections, body, timeoutMs));
    const databaseMs = await databaseAlone(services.mongoUri, `${config.MONGODB_DB}_db`, config.WORKER_CONCURRENCY);

    const p50 = quantile(lateness, 0.5);
    const p99 = quantile(lateness, 0.99);
    const max = lateness[lateness.length - 1] ?? NaN;
    const bound = 1.5 * ceilingMs + 1000;
    printTable(`Lateness of ${n.toLocaleString('en-US')} sends due in one second (ms after the due second)`, [
      {
        what: 'engine (batched dispatch)',
        users: n,
        'p50 ms': Math.round(p50),
        'p99 ms': Math.round(p99),
        'max ms': Math.round(max),
        'early sends': early,
      },
      {
        what: `ceiling: plain undici client, ${flags.connections} connections`,
        users: n,
        'p50 ms': null,
        'p99 ms': null,
        'max ms': Math.round(ceilingMs),
        'early sends': null,
      },
      {
        what: 'database alone: reads and commits, no send',
        users: n,
        'p50 ms': null,
        'p99 ms': null,
        'max ms': Math.round(databaseMs),
        'early sends': null,
      },
    ]);
    console.log(`ceiling: ${n} requests in ${(ceilingMs / 1000).toFixed(2)} s (${Math.round(n / (ceilingMs / 1000))} requests/s)`);
    console.log(
      `database alone: the dispatcher's reads and commits of ${n} users (no Redis, queue or send) take ${(databaseMs / 1000).toFixed(2)} s ` +
        `(${Math.round(n / (databaseMs / 1000))} users/s); the engine sends at the pace it commits (a batch's next members ` +
        `start once the commits of the ones before landed), so on this server its last sends come about that late at best`,
    );
    printStepCosts('Cost per user step while dispatching (the wait for the due second included)', [cost]);
    console.log(`target p99 lateness < ${P99_TARGET_MS / 1000} s: ${verdict(p99 < P99_TARGET_MS, `p99 ${Math.round(p99)} ms`)}`);
    console.log(
      `target p99 lateness <= 1.5 x ceiling + 1 s = ${Math.round(bound)} ms: ${verdict(p99 <= bound, `p99 ${Math.round(p99)} ms`)}`,
    );
    if (engineSends !== n) throw new Error(`the sink received ${engineSends} sends for ${n} users`);
    if (early > 0) throw new Error(`${early} sends arrived before their due second`);
  } finally {
    meter.close();
    await endRun({ sink, redis, prefix, mongo, services });
  }
}

/** The database's own pace for these users' dispatch (lib/database-ceiling.ts), on a database of its own. */
async function databaseAlone(mongoUri: string, dbName: string, concurrency: number): Promise<number> {
  console.log("database alone: the dispatcher's MongoDB work for the same number of users");
  const mongo = await connectMongo(mongoUri, dbName);
  try {
    return await measureDatabaseAlone(mongo, { n, concurrency, timeoutMs });
  } finally {
    await mongo.close();
  }
}

async function waitForCeiling(run: () => Promise<number>): Promise<number> {
  console.log('ceiling: plain HTTP client delivering the same number of requests');
  return run();
}

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

runMain(main);
