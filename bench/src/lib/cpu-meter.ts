import type { RedisClient } from '@journey/redis';
import { performance } from 'node:perf_hooks';
import { redisCpuMs } from './redis-meter.js';

/** CPU time spent while a phase ran, by whom. */
export interface CpuSpent {
  wallMs: number;
  /** Time this process's main thread was busy (event-loop utilization x wall time): the API's single event loop. */
  mainThreadBusyMs: number;
  /** CPU of this whole process (every thread: the event loop, libuv's pool, the garbage collector). */
  processCpuMs: number;
  /** CPU of the Redis server (INFO cpu: used_cpu_user + used_cpu_sys, all of its threads). */
  redisCpuMs: number;
}

async function redisCpuNow(redis: RedisClient): Promise<number> {
  return redisCpuMs(await redis.info('cpu'));
}

/** Runs `work` and tells where the machine's CPU went meanwhile: this process, its event loop, and Redis. */
export async function measureCpu<T>(redis: RedisClient, work: () => Promise<T>): Promise<{ result: T; cpu: CpuSpent }> {
  const redisBefore = await redisCpuNow(redis);
  const processBefore = process.cpuUsage();
  const loopBefore = performance.eventLoopUtilization();
  const started = performance.now();
  const result = await work();
  const wallMs = performance.now() - started;
  const loop = performance.eventLoopUtilization(loopBefore);
  const processCpu = process.cpuUsage(processBefore);
  const redisAfter = await redisCpuNow(redis);
  return {
    result,
    cpu: {
      wallMs,
      mainThreadBusyMs: loop.utilization * wallMs,
      processCpuMs: (processCpu.user + processCpu.system) / 1000,
      redisCpuMs: redisAfter - redisBefore,
    },
  };
}
