import { deleteMatching, type Keys, type RedisClient } from '@journey/redis';
import { Queue } from 'bullmq';

/** Removes what an engine left under a test's prefix: its queues (jobs and all) first, then every other key. */
export async function removeEngineKeys(redis: RedisClient, keys: Keys): Promise<void> {
  for (const name of [...keys.queues.drain, ...keys.queues.dispatch, keys.queues.schedule]) {
    const queue = new Queue(name, { connection: redis });
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
  await deleteMatching(redis, `*${keys.prefix}*`);
}
