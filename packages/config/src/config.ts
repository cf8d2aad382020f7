import { parseIsoDuration } from '@journey/core';
import { z } from 'zod';
import type { RetryPolicy } from '@journey/core';

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine(
    (value) => {
      try {
        return protocols.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}`,
  );

/** Where the engine's Redis is: one server, or the seed nodes of a Redis Cluster (every node is found from them). */
export type RedisTarget = { url: string } | { clusterNodes: readonly RedisNode[] };
export interface RedisNode {
  host: string;
  port: number;
}

/** `host:port` seeds separated by commas (`[::1]:7000` for an IPv6 address). */
const redisNodes = z.string().transform((value, ctx) => {
  const nodes: RedisNode[] = [];
  for (const entry of value.split(',').map((each) => each.trim())) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    if (!match || port < 1 || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: `must be comma-separated host:port seed nodes; "${entry}" is not one` });
      return z.NEVER;
    }
    nodes.push({ host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port });
  }
  return nodes;
});

/** An ISO 8601 duration of at least a second, read as milliseconds. */
const isoDuration = z.string().transform((value, ctx) => {
  const ms = parseIsoDuration(value)?.toMillis();
  if (ms === undefined || !Number.isSafeInteger(ms) || ms < 1_000) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO 8601 duration of at least one second, e.g. PT24H' });
    return z.NEVER;
  }
  return ms;
});

/** The environment the engine reads, once, at start-up. Every name here is documented in the README. */
export const EnvSchema = z.object({
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  MONGODB_URI: url(['mongodb:', 'mongodb+srv:']).optional(),
  MONGODB_DB: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,63}$/, 'must be 1-63 letters, digits, _ or -')
    .default('journey'),
  REDIS_URL: url(['redis:', 'rediss:']).optional(),
  /** Seed nodes of a Redis Cluster; when set, every connection is a cluster client and REDIS_URL is not used. */
  REDIS_CLUSTER_NODES: redisNodes.optional(),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, _ or -')
    .default('je'),
  ADMIN_API_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * Event partitions and due-set shards: users are hashed to them, so they are chosen once for a deployment (changing
   * them re-homes users: drain every partition and let every due set empty first). More spread the work over more
   * Redis Cluster slots and drain jobs.
   */
  EVENT_PARTITIONS: z.coerce.number().int().min(1).max(1024).default(16),
  DUE_SHARDS: z.coerce.number().int().min(1).max(1024).default(16),
  /**
   * Drain and dispatch queues: partitions and shards are dealt out to them, and on a Redis Cluster each lands on its
   * own part of the slots, so the job traffic is spread over the masters. Chosen once, like the partitions: a
   * partition's drain moves to another queue when it changes (stop every worker first).
   */
  QUEUE_GROUPS: z.coerce.number().int().min(1).max(64).default(4),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: positiveInt.default(2 * 1024 * 1024),
  /**
   * Requests one API key may make per minute, counted by each API process; past it a request gets 429 with
   * Retry-After. Generous: only a runaway client meets it. 0 turns the limit off.
   */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().nonnegative().default(60_000),
  WORKER_CONCURRENCY: positiveInt.default(8),
  EVENT_DEDUP_WINDOW_SECONDS: positiveInt.default(24 * 60 * 60),
  SHUTDOWN_GRACE_MS: positiveInt.default(10_000),
  /** Webhook channel: how long one HTTP attempt may take before it counts as a timeout (and is retried). */
  WEBHOOK_ATTEMPT_TIMEOUT_MS: positiveInt.default(10_000),
  /**
   * How long a message the receiver does not take (5xx, 408, 429, timeouts, network errors) is tried again, from its
   * first attempt (ISO 8601, e.g. `PT24H`); then it ends `failed` / `retries_exhausted`.
   */
  WEBHOOK_RETRY_WINDOW: isoDuration.prefault('PT24H'),
  /** The wait after a message's first failed attempt; each later wait doubles (with jitter), up to the next setting. */
  WEBHOOK_RETRY_BASE_MS: positiveInt.default(1_000),
  WEBHOOK_RETRY_MAX_DELAY_MS: positiveInt.default(60 * 60 * 1000),
  /** How often each worker's scheduler looks for due sets: the bound on how late a due second starts. */
  SCHEDULER_TICK_MS: positiveInt.default(200),
  /** How often the event partitions that hold records get a drain asked for (their request was lost); one worker sweeps at a time. */
  SWEEP_INTERVAL_MS: positiveInt.default(1_000),
  /** How often each worker adds the runs of schedule triggers: a one-time run never added, each cron's next occurrence. */
  SCHEDULE_CHECK_INTERVAL_MS: positiveInt.default(5_000),
  /** A carved batch still unfinished after this long is checked by the recovery sweep (its job re-added if lost). */
  STALE_BATCH_MS: positiveInt.default(30_000),
  /**
   * BullMQ job lock of the drain, dispatch and schedule workers, and how often stalled jobs are looked for: the job
   * of a crashed worker runs again within about twice this. Defaults to BullMQ's; lower it only for tests, since a
   * live worker whose event loop stalls longer than this loses its job to another worker.
   */
  JOB_LOCK_MS: positiveInt.default(30_000),
});

export type Env = z.infer<typeof EnvSchema>;

/** Where the engine connects; both stores are resolved (embedded servers started) before the apps start. */
export interface Config extends Omit<Env, 'MONGODB_URI'> {
  MONGODB_URI: string;
}

/** The Redis a configuration names: the cluster when its seed nodes are given, else the server at REDIS_URL. */
export function redisTarget(config: Pick<Env, 'REDIS_URL' | 'REDIS_CLUSTER_NODES'>): RedisTarget {
  if (config.REDIS_CLUSTER_NODES) return { clusterNodes: config.REDIS_CLUSTER_NODES };
  if (config.REDIS_URL) return { url: config.REDIS_URL };
  throw new ConfigError([{ variable: 'REDIS_URL', message: 'or REDIS_CLUSTER_NODES is required' }]);
}

/** The environment that names `target`, for child processes. */
export function redisEnv(target: RedisTarget): { REDIS_URL: string } | { REDIS_CLUSTER_NODES: string } {
  if ('url' in target) return { REDIS_URL: target.url };
  return {
    REDIS_CLUSTER_NODES: target.clusterNodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(','),
  };
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: Array<{ variable: string; message: string }>) {
    super(`Invalid configuration: ${problems.map((p) => `${p.variable} ${p.message}`).join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Reads and validates the environment; the error names every bad variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): Env {
  // An empty variable means "unset" (as `FOO= cmd` does in a shell), not "invalid".
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(
    parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message })),
  );
}

/** The configuration of a running app: the environment, with MongoDB and Redis required. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = readEnv(env);
  const missing = [
    ...(parsed.MONGODB_URI ? [] : ['MONGODB_URI']),
    ...(parsed.REDIS_URL || parsed.REDIS_CLUSTER_NODES ? [] : ['REDIS_URL (or REDIS_CLUSTER_NODES)']),
  ];
  if (missing.length > 0) {
    throw new ConfigError(
      missing.map((variable) => ({ variable, message: 'is required (npm start sets it after starting embedded servers)' })),
    );
  }
  return parsed as Config;
}

/** How a message the receiver did not take is tried again, from the WEBHOOK_RETRY_* settings. */
export function webhookRetryPolicy(
  config: Pick<Config, 'WEBHOOK_RETRY_WINDOW' | 'WEBHOOK_RETRY_BASE_MS' | 'WEBHOOK_RETRY_MAX_DELAY_MS'>,
): RetryPolicy {
  return {
    windowMs: config.WEBHOOK_RETRY_WINDOW,
    baseDelayMs: config.WEBHOOK_RETRY_BASE_MS,
    maxDelayMs: config.WEBHOOK_RETRY_MAX_DELAY_MS,
  };
}
