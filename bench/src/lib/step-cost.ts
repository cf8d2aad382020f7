import { availableParallelism } from 'node:os';
import type { MongoStore } from '@journey/mongo';
import { serverCpuMs, type MongoTraffic } from './mongo-meter.js';
import { machineCpuSeconds } from './proc-cpu.js';
import type { RedisPhase } from './redis-meter.js';
import { printTable } from './table.js';

/** What a phase cost in all: this process's CPU (the engine's worker and the meters), Redis as measured, MongoDB as sent. */
export interface PhaseCost {
  label: string;
  steps: number;
  processCpuMs: number;
  /** CPU of the MongoDB server process (null: not on this machine). */
  mongoServerCpuMs: number | null;
  /** CPU every process of the machine used meanwhile (/proc/stat): the engine, Redis, the store, the sink, and anything else running. */
  machineCpuMs: number;
  redis: RedisPhase;
  mongo: MongoTraffic;
}

/** Runs `work` and returns its result with the CPU time (user + system, every thread) this process and the MongoDB server used meanwhile. */
export async function withCpu<T>(
  mongo: MongoStore,
  work: () => Promise<T>,
): Promise<{ result: T; cpuMs: number; mongoServerCpuMs: number | null; machineCpuMs: number }> {
  const serverBefore = await serverCpuMs(mongo);
  const machineBefore = machineCpuSeconds().busy;
  const before = process.cpuUsage();
  const result = await work();
  const spent = process.cpuUsage(before);
  const machineCpuMs = (machineCpuSeconds().busy - machineBefore) * 1000;
  const serverAfter = await serverCpuMs(mongo);
  return {
    result,
    cpuMs: (spent.user + spent.system) / 1000,
    machineCpuMs,
    mongoServerCpuMs: serverBefore === null || serverAfter === null ? null : serverAfter - serverBefore,
  };
}

/** Per user step: worker and Redis CPU, Redis commands and round trips, MongoDB operations, writes and bytes. */
export function stepCostRow(phase: PhaseCost): Record<string, string | number> {
  const per = (value: number, digits = 2) => Math.round((value / phase.steps) * 10 ** digits) / 10 ** digits;
  return {
    design: phase.label,
    'worker CPU µs': per(phase.processCpuMs * 1000, 1),
    'Redis CPU µs': per(phase.redis.cpuMs * 1000, 1),
    'Redis cmds': per(phase.redis.clientCommands),
    'Redis cmds incl. in scripts': per(phase.redis.allCommands),
    'Redis round trips': per(phase.redis.roundTrips),
    'Mongo server CPU µs': phase.mongoServerCpuMs === null ? '-' : per(phase.mongoServerCpuMs * 1000, 1),
    'Mongo ops': per(phase.mongo.operations),
    'Mongo writes': per(phase.mongo.statements),
    'Mongo bytes sent': per(phase.mongo.bytesSent, 0),
    'Mongo bytes received': per(phase.mongo.bytesReceived, 0),
    'machine CPU µs': per(phase.machineCpuMs * 1000, 1),
  };
}

export function printStepCosts(title: string, phases: PhaseCost[]): void {
  printTable(title, phases.map(stepCostRow));
  for (const phase of phases) {
    const perStep = Object.entries(phase.redis.byCommand)
      .sort((a, b) => b[1] - a[1])
      .map(([name, calls]) => `${name} ${(calls / phase.steps).toFixed(2)}`);
    console.log(`${phase.label}: Redis commands per step by name (scripts' own included): ${perStep.join(', ')}`);
    console.log(`${phase.label}: ${boundLine(phase)}`);
  }
}

/**
 * What bounds the users per second, from the CPU a step cost: the worker's own (one process runs its JavaScript on one
 * core) and the machine's (every process of a step shares the cores).
 */
function boundLine(phase: PhaseCost): string {
  const cores = availableParallelism();
  const workerUs = (phase.processCpuMs * 1000) / phase.steps;
  const machineUs = (phase.machineCpuMs * 1000) / phase.steps;
  const pace = (us: number, onCores: number) => Math.round((onCores * 1_000_000) / us).toLocaleString('en-US');
  return (
    `bound: the worker process used ${workerUs.toFixed(0)} µs of CPU per step (one process: at most ${pace(workerUs, 1)} users/s on a core); ` +
    `the machine ${machineUs.toFixed(0)} µs per step over all its processes (${cores} cores: at most ${pace(machineUs, cores)} users/s)`
  );
}
