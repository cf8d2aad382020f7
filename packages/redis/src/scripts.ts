import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisClient } from './connection.js';
import { BadScriptArgumentsError, CrossSlotError, errorFromScriptCode } from './errors.js';
import { keySlot } from './key-slot.js';

/**
 * Our Lua scripts, loaded once per process from ../lua (outside src, so the same relative URL works from
 * src under vitest and from dist when built). A file is `<name>-<keys>.lua`; `-N` marks a variable key count.
 * `--- @include "name"` pulls in lua/includes/name.lua (each include at most once per script), so shared
 * pieces are written once.
 *
 * Scripts run with EVALSHA and fall back to EVAL on NOSCRIPT (after a restart or SCRIPT FLUSH), which
 * caches the script again. A negative integer reply is a refusal and becomes the named error of
 * errors.ts; anything else is returned for the typed wrapper to validate.
 */

export const SCRIPT_FILES = {
  acceptEvents: 'acceptEvents-N.lua',
  scheduleDue: 'scheduleDue-3.lua',
  carveBatch: 'carveBatch-5.lua',
  finishBatch: 'finishBatch-2.lua',
  takeBranchLocks: 'takeBranchLocks-N.lua',
  settleBranchLocks: 'settleBranchLocks-N.lua',
  noteSends: 'noteSends-N.lua',
  noteRecordFailure: 'noteRecordFailure-2.lua',
  claimLeases: 'claimLeases-N.lua',
  heartbeat: 'heartbeat-1.lua',
} as const;

export type ScriptName = keyof typeof SCRIPT_FILES;

export interface LoadedScript {
  name: ScriptName;
  /** Fixed key count from the file name, undefined for `-N`. */
  numberOfKeys: number | undefined;
  lua: string;
  sha: string;
}

const INCLUDE = /^---[ \t]*@include[ \t]+"([A-Za-z0-9_-]+)"[ \t]*$/gm;

function luaUrl(path: string): URL {
  return new URL(`../lua/${path}`, import.meta.url);
}

/** Reads a script and resolves its includes; exported for tests of the loader. */
export function loadScript(name: ScriptName): LoadedScript {
  const file = SCRIPT_FILES[name];
  const keyCount = /-(\d+|N)\.lua$/.exec(file)?.[1];
  if (keyCount === undefined) throw new Error(`script file ${file} does not say its key count`);
  const included = new Set<string>();
  const lua = readFileSync(luaUrl(file), 'utf8').replace(INCLUDE, (_line, include: string) => {
    if (included.has(include)) throw new Error(`${file} includes "${include}" twice`);
    included.add(include);
    return readFileSync(luaUrl(`includes/${include}.lua`), 'utf8');
  });
  return {
    name,
    numberOfKeys: keyCount === 'N' ? undefined : Number(keyCount),
    lua,
    sha: createHash('sha1').update(lua).digest('hex'),
  };
}

let loaded: Record<ScriptName, LoadedScript> | undefined;

function script(name: ScriptName): LoadedScript {
  loaded ??= Object.fromEntries(Object.keys(SCRIPT_FILES).map((each) => [each, loadScript(each as ScriptName)])) as Record<
    ScriptName,
    LoadedScript
  >;
  return loaded[name];
}

/**
 * Runs one script. Checks, before Redis does, that the key count matches the file name and that all
 * keys share one cluster slot (a standalone Redis would silently accept keys a cluster refuses).
 */
export async function runScript(
  redis: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  const { numberOfKeys, sha, lua } = script(name);
  if (numberOfKeys !== undefined && keys.length !== numberOfKeys) {
    throw new BadScriptArgumentsError({ script: name, reason: `takes ${numberOfKeys} keys, got ${keys.length}` });
  }
  const slot = keys.length > 0 ? keySlot(keys[0]!) : 0;
  if (keys.some((key) => keySlot(key) !== slot)) throw new CrossSlotError({ script: name, keys });

  let reply: unknown;
  try {
    reply = await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    reply = await redis.eval(lua, keys.length, ...keys, ...args);
  }
  if (typeof reply === 'number' && reply < 0) throw errorFromScriptCode(reply, { script: name, keys: keys.slice(0, 4) });
  return reply;
}

/**
 * Runs a many-key operation per cluster slot: `items` are grouped by the slot of their key, `run` gets each group
 * (in input order) with its keys, all groups at once, and the results come back in input order. Items whose keys
 * share a hash tag (a batch's members, tagged by their due shard) make one group: one script.
 */
export async function bySlot<T, R>(
  items: readonly T[],
  keyOf: (item: T) => string,
  run: (group: T[], keys: string[]) => Promise<R[]>,
): Promise<R[]> {
  const groups = new Map<number, { indexes: number[]; items: T[]; keys: string[] }>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    const slot = keySlot(key);
    let group = groups.get(slot);
    if (!group) groups.set(slot, (group = { indexes: [], items: [], keys: [] }));
    group.indexes.push(index);
    group.items.push(item);
    group.keys.push(key);
  });
  const results = new Array<R>(items.length);
  await Promise.all(
    [...groups.values()].map(async (group) => {
      const replies = await run(group.items, group.keys);
      group.indexes.forEach((index, position) => (results[index] = replies[position]!));
    }),
  );
  return results;
}
