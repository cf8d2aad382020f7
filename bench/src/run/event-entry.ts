/**
 * Event-entry benchmark (issue 17): with `--existing` users already inside a journey, `--users` new users post the
 * event that enters them into a one-message webhook journey. The whole engine runs in this process: the API
 * (`POST /v1/events`, batches of 100) and the worker's processors (ingestion: apply each user's events, enter;
 * dispatch: schedule, batch, send, commit). The sink counts requests per `Idempotency-Key`. Target: every new user
 * gets their message within `--within-seconds` of the first post, each exactly once.
 *
 *   pnpm --filter @journey/bench bench:event-entry [--users 10000] [--existing 20000] [--within-seconds 120] [--persistent 1]
 *
 * `--persistent 1` runs the embedded servers as `npm start` does (the store on its file), else as `npm test` does.
 */
import { buildApp } from '@journey/api';
import { createLogger } from '@journey/config';
import { connectMongo, createJourneyStatesRepository } from '@journey/mongo';
import { connectRedis } from '@journey/redis';
import { startProcessors } from '@journey/worker';
import { randomBytes } from 'node:crypto';
import { intFlags } from '../lib/args.js';
import { publishWebhookJourney } from '../lib/bench-journey.js';
import { benchConfig, completedStates } from '../lib/engine-dispatch.js';
import { machineLine } from '../lib/machine.js';
import { inChunks, waitWithProgress } from '../lib/progress.js';
import { benchServers, endRun, printServerVersions } from '../lib/servers.js';
import { startSink } from '../lib/sink.js';
import { printTable, verdict } from '../lib/table.js';
import { enterUsers } from '../lib/users.js';
import { runMain } from '../lib/run-main.js';

const flags = intFlags({ users: 10_000, existing: 20_000, 'within-seconds': 120, persistent: 0 as number });
const n = flags.users;
const withinMs = flags['within-seconds'] * 1000;
const EVENT = 'bench_signed_up';
const PER_REQUEST = 100;
/** Requests in flight at once, as a few app servers posting batches would. */
const POSTERS = 4;

async function main(): Promise<void> {
  console.log(
    `Event-entry benchmark, ${n.toLocaleString('en-US')} new users, ${flags.existing.toLocaleString('en-US')} already in a journey, on ${machineLine()}`,
  );
  const services = await benchServers({ persistent: flags.persistent === 1 });
  const prefix = `bench${randomBytes(3).toString('hex')}e`;
  const config = benchConfig(services, prefix, `bench_${prefix}`);
  const sink = await startSink({ countKeys: true });
  const mongo = await connectMongo(services.mongoUri, config.MONGODB_DB);
  const redis = await connectRedis(services.redisTarget, 'blocking');
  const logger = createLogger({ name: 'bench-event-entry', level: 'silent' });
  try {
    await printServerVersions(mongo, redis);
    const states = createJourneyStatesRepository(mongo.db);
    await states.ensureIndexes();
    // The users already inside: states of another journey (waiting, never due here) and their profiles, so the
    // collections the new users' events are looked up in hold 20,000 others.
    const waiting = await publishWebhookJourney(mongo, sink.url);
    await enterUsers(mongo.db, waiting, flags.existing, Date.now());
    await inChunks('existing user profiles', flags.existing, 1_000, async (first, end) => {
      const now = new Date();
      const docs = [];
      for (let index = first; index < end; index++)
        docs.push({ _id: `user-${index.toString().padStart(7, '0')}`, attributes: {}, lastRecord: null, createdAt: now, updatedAt: now });
      await mongo.db.collection<{ _id: string }>('users').insertMany(docs);
    });
    const journey = await publishWebhookJourney(mongo, sink.url, { type: 'event', event: EVENT });

    const apiRedis = await connectRedis(services.redisTarget, 'command');
    const api = await buildApp({ config, logger, mongo, redis: apiRedis });
    const apiUrl = await api.listen({ host: '127.0.0.1', port: 0 });
    const worker = await startProcessors({ config, logger, mongo, redis });
    let postedMs = 0;
    let sentMs = 0;
    let committedMs = 0;
    const started = performance.now();
    try {
      let next = 0;
      const poster = async () => {
        for (let first = next; first < n; first = next) {
          next = first + PER_REQUEST;
          const events = [];
          for (let index = first; index < Math.min(n, first + PER_REQUEST); index++)
            events.push({ id: `evt-${prefix}-${index}`, userId: `new-${index.toString().padStart(7, '0')}`, name: EVENT });
          const response = await fetch(`${apiUrl}/v1/events`, {
            method: 'POST',
            headers: { authorization: `Bearer ${config.ADMIN_API_KEY}`, 'content-type': 'application/json' },
            body: JSON.stringify({ events }),
          });
          const body = (await response.json()) as { accepted?: number };
          if (response.status !== 202 || body.accepted !== events.length)
            throw new Error(`POST /v1/events: ${response.status} ${JSON.stringify(body)}`);
        }
      };
      await Promise.all(Array.from({ length: POSTERS }, poster));
      postedMs = performance.now() - started;
      // Polled past the target too, so a miss says by how much; the run still ends within twice the target.
      await waitWithProgress('messages at the sink', n, async () => (await sink.keyCounts()).length, {
        timeoutMs: 2 * withinMs - (performance.now() - started),
      });
      sentMs = performance.now() - started;
      await waitWithProgress('entries completed', n, () => completedStates(mongo, journey.journeyId), {
        timeoutMs: withinMs,
        intervalMs: 250,
      });
      committedMs = performance.now() - started;
    } finally {
      await worker.close();
      await api.close();
      apiRedis.disconnect();
    }

    const counts = await sink.keyCounts();
    const repeated = counts.filter((count) => count > 1).length;
    printTable(`${n.toLocaleString('en-US')} users entered by events, ${flags.existing.toLocaleString('en-US')} already in a journey`, [
      {
        'events posted s': postedMs / 1000,
        'last message s': sentMs / 1000,
        'last commit s': committedMs / 1000,
        'messages/s': Math.round(n / (sentMs / 1000)),
        'distinct messages': counts.length,
        requests: await sink.count(),
        'messages sent twice': repeated,
      },
    ]);
    console.log(
      `target: all ${n} messages within ${flags['within-seconds']} s of the first post, each once: ${verdict(sentMs <= withinMs && counts.length === n && repeated === 0, `${(sentMs / 1000).toFixed(1)} s, ${counts.length} messages, ${repeated} sent twice`)}`,
    );
  } finally {
    await endRun({ sink, redis, prefix, mongo, services });
  }
}

runMain(main);
