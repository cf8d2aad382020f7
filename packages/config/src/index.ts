export {
  EnvSchema,
  ConfigError,
  readEnv,
  loadConfig,
  webhookRetryPolicy,
  redisEnv,
  redisTarget,
  type Env,
  type Config,
  type RedisNode,
  type RedisTarget,
} from './config.js';
export { createLogger, type Logger } from './logger.js';
