/**
 * Store benchmark (issue 17): the MongoDB work the engine's hot paths ask of a server, on `--docs` state-like
 * documents with the engine's journey_states indexes: insert, `find({ userId })` (every ingested event),
 * `_id $in` of 50 (a dispatch slice's read), a walk through all of them in pages of 1,000 by `_id` (a scheduled
 * journey's audience), conditional `updateOne`s by `{ _id, entryId, token, status }` in unordered `bulkWrite`s of 50
 * (a dispatch commit) and one per command, `--clients` at once. Each update phase stops after `--seconds` if it has
 * not gone through every document.
 *
 * The server at MONGODB_URI when set; otherwise the embedded store three ways: the memory backend as released
 * (library indexes only), ours in memory (`npm test`), ours on its H2 file (`npm start`).
 *
 *   pnpm --filter @journey/bench bench:store [--docs 20000] [--clients 8] [--seconds 10]
 */
import { consoleLog, startJavaStore } from '@journey/embedded';
import { MongoClient, type Collection } from 'mongodb';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { intFlags } from '../lib/args.js';
import { machineLine } from '../lib/machine.js';
import { runMain } from '../lib/run-main.js';
import { printTable } from '../lib/table.js';

const flags = intFlags({ docs: 20_000, clients: 8, seconds: 10 });
const n = flags.docs;
const SLICE = 50;
const SAMPLES = 21;

interface StateDoc {
  _id: string;
  journeyId: string;
  userId: string;
  status: string;
  entryId: string;
  token: string;
  stepId: string | null;
  updatedAt: Date;
}

const stateId = (index: number) => `jrn_bench:user-${index.toString().padStart(7, '0')}`;

async function main(): Promise<void> {
  console.log(`Store benchmark, ${n.toLocaleString('en-US')} documents, ${flags.clients} clients, on ${machineLine()}`);
  const rows = [];
  if (process.env.MONGODB_URI) {
    rows.push(await measure(process.env.MONGODB_URI));
  } else {
    for (const variant of [
      { persistent: false, indexes: 'library' },
      { persistent: false, indexes: 'ours' },
      { persistent: true, indexes: 'ours' },
    ] as const) {
      const dataDir = mkdtempSync(join(tmpdir(), 'journey-bench-store-'));
      const store = await startJavaStore({ log: consoleLog, dataDir, ...variant });
      try {
        rows.push(await measure(store.uri));
      } finally {
        await store.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  }
  printTable(
    `The engine's hot MongoDB work, ${n.toLocaleString('en-US')} documents, ${flags.clients} clients (medians of ${SAMPLES} for the reads)`,
    rows,
  );
}

async function measure(uri: string): Promise<Record<string, string | number>> {
  const client = await MongoClient.connect(uri, { maxPoolSize: flags.clients + 2 });
  try {
    const info = (await client.db('admin').command({ buildInfo: 1 })) as { version?: string; journeyStore?: string };
    const server = info.journeyStore ?? `MongoDB ${info.version ?? '?'}`;
    console.log(`\n${server}`);
    const db = client.db('bench_store');
    await db.dropDatabase();
    const states = db.collection<StateDoc>('journey_states');
    await states.createIndex({ userId: 1 }, { name: 'userId' });
    await states.createIndex({ journeyId: 1, status: 1 }, { name: 'journeyId_status' });

    const started = performance.now();
    for (let first = 0; first < n; first += 1_000) {
      const docs = [];
      for (let index = first; index < Math.min(n, first + 1_000); index++) {
        docs.push({
          _id: stateId(index),
          journeyId: 'jrn_bench',
          userId: `user-${index.toString().padStart(7, '0')}`,
          status: 'active',
          entryId: 'e1',
          token: 't0',
          stepId: 'hello',
          updatedAt: new Date(),
        });
      }
      await states.insertMany(docs, { ordered: false });
    }
    const insertPerSecond = n / ((performance.now() - started) / 1000);

    const byUser = await median(() =>
      states
        .find({ userId: `user-${randomIndex().toString().padStart(7, '0')}` })
        .sort({ journeyId: 1 })
        .toArray(),
    );
    const byIds = await median(() => states.find({ _id: { $in: Array.from({ length: SLICE }, () => stateId(randomIndex())) } }).toArray());
    const walk = await walkInPages(states);
    const bulk = await updates(
      SLICE,
      async (ids) => (await states.bulkWrite(ids.map(commit('t0', 't1')), { ordered: false })).modifiedCount,
    );
    const single = await updates(1, async ([id]) => {
      const { filter, update } = commit('t1', 't2')(id!).updateOne;
      return (await states.updateOne(filter, update)).modifiedCount;
    });
    return {
      server,
      'insert docs/s': Math.round(insertPerSecond),
      'find userId ms': byUser,
      '_id $in 50 ms': byIds,
      'page of 1,000 ms': walk.medianPageMs,
      'walk of all s': walk.seconds,
      'bulk updates/s': Math.round(bulk.perSecond),
      'single updates/s': Math.round(single.perSecond),
      'updates that missed': bulk.missed + single.missed,
    };
  } finally {
    await client.close();
  }
}

/**
 * The walk a scheduled journey makes through its audience (users-repository's page): pages of 1,000 live documents
 * in `_id` order, each after the last one's `_id`. The median page, and the whole walk.
 */
async function walkInPages(states: Collection<StateDoc>): Promise<{ medianPageMs: number; seconds: number }> {
  const pages: number[] = [];
  const started = performance.now();
  let after: string | undefined;
  for (;;) {
    const pageStarted = performance.now();
    const page = await states
      .find(after === undefined ? { status: 'active' } : { _id: { $gt: after }, status: 'active' })
      .sort({ _id: 1 })
      .limit(1_000)
      .toArray();
    pages.push(performance.now() - pageStarted);
    if (page.length < 1_000) break;
    after = page.at(-1)!._id;
  }
  pages.sort((a, b) => a - b);
  return { medianPageMs: round(pages[pages.length >> 1]!), seconds: round((performance.now() - started) / 1000) };
}

/** The dispatcher's conditional commit of one state (journey-states-repository's commitOperation, in short). */
function commit(expectedToken: string, token: string) {
  return (_id: string) => ({
    updateOne: {
      filter: { _id, entryId: 'e1', token: expectedToken, status: 'active' },
      update: { $set: { token, stepId: null, updatedAt: new Date() } },
    },
  });
}

/**
 * Clients take `per` documents at a time in order until all are done or the time is up. Modified documents per
 * second, and how many updates modified nothing (each should modify its document once).
 */
async function updates(per: number, apply: (ids: string[]) => Promise<number>): Promise<{ perSecond: number; missed: number }> {
  const deadline = performance.now() + flags.seconds * 1000;
  const started = performance.now();
  let next = 0;
  let modified = 0;
  let missed = 0;
  await Promise.all(
    Array.from({ length: flags.clients }, async () => {
      while (next < n && performance.now() < deadline) {
        const first = next;
        next += per;
        const ids = Array.from({ length: Math.min(per, n - first) }, (_, offset) => stateId(first + offset));
        const count = await apply(ids);
        modified += count;
        missed += ids.length - count;
      }
    }),
  );
  return { perSecond: modified / ((performance.now() - started) / 1000), missed };
}

async function median(run: () => Promise<unknown>): Promise<number> {
  const times = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return round(times[SAMPLES >> 1]!);
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function randomIndex(): number {
  return Math.floor(Math.random() * n);
}

runMain(main);
