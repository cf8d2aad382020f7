import type { RedisClient } from '@journey/redis';
import { Redis } from 'ioredis';

/** Commands sent by this process's ioredis clients, the meters' own excepted (counted where every command passes). */
let commandsSent = 0;
const unmetered = new WeakSet<RedisClient>();

function countCommandsSent(): void {
  const prototype = Redis.prototype as Redis & { commandsCounted?: true };
  if (prototype.commandsCounted) return;
  const send = prototype.sendCommand;
  // sendCommand is ioredis's public door for every command, a pipeline's and a transaction's included.
  prototype.sendCommand = function (this: Redis, ...args: Parameters<Redis['sendCommand']>) {
    if (!unmetered.has(this)) commandsSent++;
    return send.apply(this, args);
  };
  prototype.commandsCounted = true;
}

export interface RedisSnapshot {
  /** Commands this process's clients sent (a script call counts once); only what runs in this process. */
  clientCommands: number;
  /** Sum of INFO commandstats calls: every client's, and each command a script ran inside Redis. */
  allCommands: number;
  /** The commandstats calls by command name (lowercase, `info` included). */
  byCommand: Record<string, number>;
  /** Socket reads the server processed (INFO stats total_reads_processed): one per round trip, a pipeline's included. */
  reads: number;
  /** CPU the server used (INFO cpu used_cpu_user + used_cpu_sys, every thread of it), in ms. */
  cpuMs: number;
  usedMemory: number;
}

export interface RedisPhase {
  clientCommands: number;
  allCommands: number;
  /** Commands Redis ran by name, the meter's own INFO excepted. */
  byCommand: Record<string, number>;
  /** Round trips: socket reads of client requests (a pipeline read at once counts once). */
  roundTrips: number;
  cpuMs: number;
  /** Highest used_memory seen while the phase ran (sampled every ~100 ms, plus its start and end). */
  peakMemory: number;
  memoryBefore: number;
  memoryAfter: number;
  ms: number;
}

/**
 * Meters Redis from its own connection: the commands this process's clients send as they send them, the server's
 * commands, reads and CPU as deltas of INFO, memory by sampling INFO memory. The meter's own INFO calls are counted by
 * the server too and subtracted (each is one command, one commandstats call and one read).
 */
export function createRedisMeter(redis: RedisClient) {
  countCommandsSent();
  unmetered.add(redis);
  let ownCommands = 0;

  async function info(section: string): Promise<string> {
    ownCommands++;
    return redis.info(section);
  }
  async function snapshot(): Promise<RedisSnapshot> {
    const [stats, commandstats, memory, cpu] = [await info('stats'), await info('commandstats'), await info('memory'), await info('cpu')];
    const byCommand: Record<string, number> = {};
    for (const match of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand[match[1]!] = Number(match[2]);
    return {
      clientCommands: commandsSent,
      allCommands: Object.values(byCommand).reduce((sum, calls) => sum + calls, 0),
      byCommand,
      reads: infoNumber(stats, 'total_reads_processed'),
      cpuMs: redisCpuMs(cpu),
      usedMemory: infoNumber(memory, 'used_memory'),
    };
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
      // The meter's own INFO calls inside the delta: those of `before` (a command is counted after it ran, so each
      // snapshot's first INFO misses itself) and the samples; as many as it issued since `before` (samples + `after`'s).
      // Each is a round trip of its own too.
      const own = ownCommands - ownBefore;
      peak = Math.max(peak, after.usedMemory);
      return {
        result,
        redis: {
          clientCommands: after.clientCommands - before.clientCommands,
          allCommands: after.allCommands - before.allCommands - own,
          byCommand: commandsBetween(before.byCommand, after.byCommand, own),
          roundTrips: after.reads - before.reads - own,
          cpuMs: after.cpuMs - before.cpuMs,
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

  return { snapshot, measure, close: () => redis.disconnect() };
}

export type RedisMeter = ReturnType<typeof createRedisMeter>;

function commandsBetween(before: Record<string, number>, after: Record<string, number>, ownInfo: number): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const ran = calls - (before[name] ?? 0) - (name === 'info' ? ownInfo : 0);
    if (ran > 0) delta[name] = ran;
  }
  return delta;
}

/** A numeric field of an INFO reply (`name:123` or `name:1.25`); throws when it is missing. */
export function infoNumber(text: string, name: string): number {
  const match = new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text);
  if (!match) throw new Error(`INFO has no ${name}`);
  return Number(match[1]);
}

/** CPU the server used since it started, in ms, from an INFO cpu reply (user + system, every thread). */
export function redisCpuMs(cpuInfo: string): number {
  return (infoNumber(cpuInfo, 'used_cpu_user') + infoNumber(cpuInfo, 'used_cpu_sys')) * 1000;
}

/** Redis's version (INFO server). */
export async function redisVersion(redis: RedisClient): Promise<string> {
  const server = await redis.info('server');
  return /^redis_version:(\S+)/m.exec(server)?.[1] ?? 'unknown';
}
