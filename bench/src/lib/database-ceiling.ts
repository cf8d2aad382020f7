import { createJourneyStatesRepository, createUsersRepository, type MongoStore, type StepCommit } from '@journey/mongo';
import { stepToken } from '@journey/core';
import { publishWebhookJourney, sentRecord, type PublishedJourney } from './bench-journey.js';
import { waitWithProgress } from './progress.js';
import { benchUser, enterUsers } from './users.js';

/** The engine's shape of work: a batch job holds up to 200 users, and its members run 50 at a time. */
const BATCH_USERS = 200;
const MEMBER_SLICE = 50;

/**
 * The database's own pace for a dispatch: for users 0..n-1 (entered at the journey's first step), exactly the MongoDB
 * work the engine's dispatcher does per user, batched as it batches it (reads of the states and of the users by
 * `_id $in` per slice of 50 members, the same conditional commit of the step and its message through `commitEach`,
 * `concurrency` batches at once), and nothing else: no Redis, no queue, no HTTP send. No design that reads and
 * commits every user through this server can dispatch faster, so this bounds what the other figures can reach.
 * Resolves with the wall time once every commit landed; throws if one did not.
 */
export async function runDatabaseCeiling(options: {
  mongo: MongoStore;
  journey: PublishedJourney;
  n: number;
  concurrency: number;
  timeoutMs: number;
}): Promise<number> {
  const { mongo, journey, n } = options;
  const states = createJourneyStatesRepository(mongo.db);
  const users = createUsersRepository(mongo.db);
  const stepId = journey.definition.start;
  const ownToken = stepToken(0);
  let nextBatch = 0;
  let committed = 0;

  async function slice(first: number, end: number): Promise<void> {
    const userIds: string[] = [];
    for (let index = first; index < end; index++) userIds.push(benchUser(journey.journeyId, index).userId);
    const [found] = await Promise.all([states.listForJourney(journey.journeyId, userIds), users.getMany(userIds)]);
    const now = Date.now();
    const record = sentRecord(ownToken, now);
    const commits: StepCommit[] = found.map((state) => ({
      key: ownToken,
      journeyId: journey.journeyId,
      userId: state.userId,
      entryId: state.entryId,
      expectedToken: state.token,
      token: ownToken,
      stepId: null,
      status: 'completed',
      message: { stepId, record },
      now,
    }));
    if (commits.length !== userIds.length)
      throw new Error(`database ceiling: ${userIds.length - commits.length} of ${userIds.length} states missing`);
    const landed = await states.commitEach(commits);
    const missed = landed.filter((ok) => !ok).length;
    if (missed > 0) throw new Error(`database ceiling: ${missed} of ${commits.length} commits did not land`);
    committed += commits.length;
  }

  async function worker(): Promise<void> {
    for (;;) {
      const first = nextBatch;
      if (first >= n) return;
      const end = Math.min(n, first + BATCH_USERS);
      nextBatch = end;
      for (let start = first; start < end; start += MEMBER_SLICE) await slice(start, Math.min(end, start + MEMBER_SLICE));
    }
  }

  const started = performance.now();
  const workers = Promise.all(Array.from({ length: options.concurrency }, worker));
  // A failed worker ends the wait at once instead of letting the progress bar run to its timeout.
  let failure: unknown;
  workers.catch((error: unknown) => (failure = error));
  await waitWithProgress(
    'database alone: commits',
    n,
    () => {
      if (failure) throw failure instanceof Error ? failure : new Error(`database ceiling: ${JSON.stringify(failure)}`);
      return committed;
    },
    { timeoutMs: options.timeoutMs },
  );
  await workers;
  return performance.now() - started;
}

/**
 * The database's pace on `mongo`'s database, which it fills and then drops: the benchmark journey, n users entered at
 * its first step, then runDatabaseCeiling. `afterEntering` runs between the two (to zero a meter). Resolves with the
 * wall time of the reads and commits alone.
 */
export async function measureDatabaseAlone(
  mongo: MongoStore,
  options: { n: number; concurrency: number; timeoutMs: number; afterEntering?: () => void },
): Promise<number> {
  try {
    // The journey's webhook is never called: only its first step's id and the journey's id are used.
    const journey = await publishWebhookJourney(mongo, 'http://127.0.0.1:9/never-called');
    const states = createJourneyStatesRepository(mongo.db);
    await states.ensureIndexes();
    await enterUsers(mongo.db, journey, options.n, Date.now());
    options.afterEntering?.();
    return await runDatabaseCeiling({ mongo, journey, ...options });
  } finally {
    await mongo.db.dropDatabase().catch(() => undefined);
  }
}
