import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readEnv } from '../src/index.js';

describe('configuration', () => {
  it('applies defaults from the contract', () => {
    const env = readEnv({});
    expect(env.PORT).toBe(3000);
    expect(env.HOST).toBe('127.0.0.1');
    expect(env.LOG_LEVEL).toBe('info');
    expect(env.MONGODB_URI).toBeUndefined();
  });

  it('defaults the worker tuning knobs to the production values (BullMQ lock 30 s, webhook attempts of 10 s, retried for 24 h)', () => {
    const env = readEnv({});
    expect(env).toMatchObject({
      WEBHOOK_ATTEMPT_TIMEOUT_MS: 10_000,
      WEBHOOK_RETRY_WINDOW: 24 * 60 * 60 * 1000,
      WEBHOOK_RETRY_BASE_MS: 1_000,
      WEBHOOK_RETRY_MAX_DELAY_MS: 60 * 60 * 1000,
      SCHEDULER_TICK_MS: 200,
      STALE_BATCH_MS: 30_000,
      JOB_LOCK_MS: 30_000,
    });
    const tuned = readEnv({
      WEBHOOK_ATTEMPT_TIMEOUT_MS: '1500',
      WEBHOOK_RETRY_WINDOW: 'PT2H30M',
      SCHEDULER_TICK_MS: '50',
      STALE_BATCH_MS: '4000',
      JOB_LOCK_MS: '2000',
    });
    expect(tuned).toMatchObject({
      WEBHOOK_ATTEMPT_TIMEOUT_MS: 1500,
      WEBHOOK_RETRY_WINDOW: 9_000_000,
      SCHEDULER_TICK_MS: 50,
      STALE_BATCH_MS: 4000,
      JOB_LOCK_MS: 2000,
    });
    expect(() => readEnv({ JOB_LOCK_MS: '0' })).toThrow(/JOB_LOCK_MS/);
    expect(() => readEnv({ WEBHOOK_RETRY_WINDOW: '24h' })).toThrow(/WEBHOOK_RETRY_WINDOW must be an ISO 8601 duration/);
    expect(() => readEnv({ WEBHOOK_RETRY_WINDOW: 'PT0S' })).toThrow(/WEBHOOK_RETRY_WINDOW/);
  });

  it('limits each key to 60,000 requests a minute unless told otherwise; 0 turns the limit off', () => {
    expect(readEnv({}).RATE_LIMIT_PER_MINUTE).toBe(60_000);
    expect(readEnv({ RATE_LIMIT_PER_MINUTE: '0' }).RATE_LIMIT_PER_MINUTE).toBe(0);
    expect(() => readEnv({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(() => readEnv({ RATE_LIMIT_PER_MINUTE: 'lots' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
  });

  it('treats empty variables as unset', () => {
    expect(readEnv({ PORT: '', REDIS_URL: '' }).PORT).toBe(3000);
  });

  it('names every bad variable', () => {
    try {
      readEnv({ PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
      expect.unreachable('readEnv accepted bad variables');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.map((p) => p.variable).sort();
      expect(problems).toEqual(['LOG_LEVEL', 'PORT', 'REDIS_URL']);
      expect((error as Error).message).toContain('REDIS_URL must be a URL starting with redis:// or rediss://');
    }
  });

  it('requires the store URLs of a running app', () => {
    expect(() => loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/MONGODB_URI is required/);
    const config = loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', MONGODB_URI: 'mongodb://127.0.0.1:27017', PORT: '8080' });
    expect(config.PORT).toBe(8080);
  });
});
