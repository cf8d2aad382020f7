import type { RedisClient } from '@journey/redis';

export interface RedisSnapshot {
  /** Commands clients sent (INFO stats total_commands_processed); a script call counts once. */
  clientCommands: number;
  /** Sum of INFO commandstats calls: also counts the commands scripts run inside Redis. */
  allCommands: number;
  usedMemory: number;
}

export interface RedisPhase {
  clientCommands: number;
  allCommands: number;
  /** Highest used_memory seen while the phase ran (sampled every ~100 ms, plus its start and end). */
  peakMemory: number;
  memoryBefore: number;
  memoryAfter: number;
  ms: number;
}

/**
 * Meters Redis from its own connection: command counts as deltas of INFO, memory by sampling INFO memory. The
 * meter's own INFO calls are counted too and subtracted (each INFO is one client command and one commandstats call).
 */
export function createRedisMeter(redis: RedisClient) {
  let ownCommands = 0;

  async function info(section: string): Promise<string> {
    ownCommands++;
    return redis.info(section);
  }
  async function snapshot(): Promise<RedisSnapshot> {
    const [stats, commandstats, memory] = [await info('stats'), await info('commandstats'), await info('memory')];
    let allCommands = 0;
    for (const match of commandstats.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) allCommands += Number(match[1]);
    return { clientCommands: infoNumber(stats, 'total_commands_processed'), allCommands, usedMemory: infoNumber(memory, 'used_memory') };
  }

  /** Runs `work` and returns its result with what Redis did meanwhile. */
  async function measure<T>(work: () => Promise<T>): Promise<{ result: T; redis: RedisPhase }> {
    const before = await snapshot();
    const ownBefore = ownCommands;
    let peak = before.usedMemory;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        if (!sampling) break;
        peak = Math.max(peak, infoNumber(await info('memory'), 'used_memory'));
      }
    })();
    const started = performance.now();
    try {
      const result = await work();
      const ms = performance.now() - started;
      sampling = false;
      await sampler;
      const after = await snapshot();
      // The meter's own INFO calls inside the delta: the three of `before` (a command is counted after it ran, so each
      // snapshot's first INFO misses itself) and the samples; as many as it issued since `before` (samples + `after`'s three).
      const own = ownCommands - ownBefore;
      peak = Math.max(peak, after.usedMemory);
      return {
        result,
        redis: {
          clientCommands: after.clientCommands - before.clientCommands - own,
          allCommands: after.allCommands - before.allCommands - own,
          peakMemory: peak,
          memoryBefore: before.usedMemory,
          memoryAfter: after.usedMemory,
          ms,
        },
      };
    } finally {
      sampling = false;
      await sampler.catch(() => undefined);
    }
  }

  return { snapshot, measure };
}

export type RedisMeter = ReturnType<typeof createRedisMeter>;

/** A numeric field of an INFO reply (`name:123` or `name:1.25`); throws when it is missing. */
export function infoNumber(text: string, name: string): number {
  const match = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text);
  if (!match) throw new Error(`INFO has no ${name}`);
  return Number(match[1]);
}

/** Redis's version (INFO server). */
export async function redisVersion(redis: RedisClient): Promise<string> {
  const server = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(server)?.[1] ?? 'unknown';
}
