import { createLogger, loadConfig, redisTarget } from '@journey/config';
import { connectMongo } from '@journey/mongo';
import { connectRedis } from '@journey/redis';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.js';

/** The API process: configuration once, stores once, HTTP until a signal, then a bounded clean stop. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ name: 'api', level: config.LOG_LEVEL });
  const mongo = await connectMongo(config.MONGODB_URI, config.MONGODB_DB, { appName: 'journey-api' });
  const redis = await connectRedis(redisTarget(config), 'command');
  const app = await buildApp({ config, logger, mongo, redis });

  closeWithGrace({ delay: config.SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'stopping after an error');
    else logger.info({ signal }, 'stopping');
    await app.close();
    await Promise.allSettled([redis.quit(), mongo.close()]);
  });

  await app.listen({ port: config.PORT, host: config.HOST });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
