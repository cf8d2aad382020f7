import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** One logger configuration for every process, so log lines look alike across API and workers. */
export function createLogger(options: { level: string; name: string } & LoggerOptions): Logger {
  return pino({
    base: { service: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', '*.apiKey', '*.key'], censor: '[redacted]' },
    ...options,
  });
}
