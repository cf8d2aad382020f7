import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { printTable } from './table.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

/** Where profiles are written: bench/.profiles (ignored by git), opened in Chrome DevTools or speedscope. */
const PROFILES_DIR = new URL('../../.profiles/', import.meta.url);

/**
 * Runs `work` under V8's sampling profiler (this process's main thread), writes the profile to bench/.profiles, and
 * prints where the time went: self time by area (our packages, each dependency, Node's internals, the garbage
 * collector, idle) and the functions with the most self time.
 */
export async function profileCpu<T>(name: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  let result: T;
  try {
    result = await work();
  } finally {
    const { profile } = (await session.post('Profiler.stop')) as { profile: Profile };
    session.disconnect();
    mkdirSync(PROFILES_DIR, { recursive: true });
    const file = join(PROFILES_DIR.pathname, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    writeFileSync(file, JSON.stringify(profile));
    printProfileSummary(profile, file);
  }
  return result;
}

function printProfileSummary(profile: Profile, file: string): void {
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const msPerHit = (profile.endTime - profile.startTime) / 1000 / Math.max(1, total);
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const area = areaOf(node.callFrame.url, node.callFrame.functionName);
    byArea.set(area, (byArea.get(area) ?? 0) + hits);
    const where = node.callFrame.url ? `${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}` : area;
    const key = `${node.callFrame.functionName || '(anonymous)'} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
  }
  const rows = (counts: Map<string, number>, column: string, top: number) =>
    [...counts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([label, hits]) => ({
        [column]: label,
        'self ms': Math.round(hits * msPerHit),
        share: `${((hits / total) * 100).toFixed(1)}%`,
      }));
  console.log(`\nCPU profile of this process (main thread) written to ${file}`);
  printTable('Self time by area', rows(byArea, 'area', 20));
  printTable('Functions with the most self time', rows(byFunction, 'function', 25));
}

/** The part of the code a sample falls in: a workspace package, a dependency, Node itself, or V8's own states. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node internals';
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (dependency) return dependency[1]!;
  const workspace = /\/(apps|packages|bench)\/([^/]+)\//.exec(url);
  if (workspace) return `${workspace[1]}/${workspace[2]}`;
  return shortUrl(url);
}

function shortUrl(url: string): string {
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) return url.slice(inModules + 'node_modules/'.length);
  const workspace = /\/((?:apps|packages|bench)\/.*)$/.exec(url);
  return workspace ? workspace[1]! : url.replace(/^file:\/\//, '');
}
