export { EnvSchema, ConfigError, readEnv, loadConfig, webhookRetryPolicy, type Env, type Config } from './config.js';
export { createLogger, type Logger } from './logger.js';
