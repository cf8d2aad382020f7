import { createLogger, loadConfig, redisTarget } from '@journey/config';
import { connectMongo } from '@journey/mongo';
import { connectRedis, redisServerVersion } from '@journey/redis';
import closeWithGrace from 'close-with-grace';
import { startProcessors } from './processors.js';

/** The worker process: BullMQ processors until a signal, then active jobs finish and connections close. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'worker', level: config.LOG_LEVEL });
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB, { appName: 'journey-worker' });
  const redis = await connectRedis(redisTarget(config), 'blocking');
  const processors = await startProcessors({ config, logger, mongo, redis });
  logger.info({ redis: await redisServerVersion(redis), processors: processors.names }, 'worker ready');

  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    else logger.info({ signal }, 'stopping: letting active jobs finish');
    await processors.close();
    await Promise.allSettled([redis.quit(), mongo.close()]);
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
