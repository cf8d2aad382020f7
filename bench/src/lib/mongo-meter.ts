import { readFileSync } from 'node:fs';
import type { MongoStore } from '@journey/mongo';
import { MongoClient, type CommandStartedEvent, type CommandSucceededEvent } from 'mongodb';

export interface MongoWrites {
  /** Write commands sent (insert, update, delete, findAndModify). */
  commands: number;
  /** Single-document write statements inside them (each element of `documents` / `updates` / `deletes`; findAndModify is one). */
  statements: number;
  byCommand: Record<string, number>;
  /** Documents the update commands changed (`nModified` of their replies): commits that landed, counted as they land. */
  modified: number;
  /** Time the server took for each command name (all commands, reads too), summed over commands in flight: where MongoDB time goes. */
  msByCommand: Record<string, number>;
}

/**
 * A MongoStore like connectMongo's (same client options), whose client has command monitoring on: every write
 * the code using it issues is counted from the driver's `commandStarted` events. `writes()` reads the counters;
 * `reset()` zeroes them between phases.
 */
export async function connectMeteredMongo(uri: string, dbName: string): Promise<MongoStore & { writes(): MongoWrites; reset(): void }> {
  const client = new MongoClient(uri, {
    appName: 'journey-bench',
    monitorCommands: true,
    serverSelectionTimeoutMS: 5_000,
    retryWrites: true,
    retryReads: true,
  });
  let counts: MongoWrites = { commands: 0, statements: 0, byCommand: {}, modified: 0, msByCommand: {} };
  client.on('commandStarted', (event: CommandStartedEvent) => {
    const name = event.commandName;
    const command = event.command as Record<string, unknown>;
    let statements: number;
    if (name === 'insert') statements = arrayLength(command.documents);
    else if (name === 'update') statements = arrayLength(command.updates);
    else if (name === 'delete') statements = arrayLength(command.deletes);
    else if (name === 'findAndModify') statements = 1;
    else return;
    counts.commands++;
    counts.statements += statements;
    counts.byCommand[name] = (counts.byCommand[name] ?? 0) + statements;
  });
  client.on('commandSucceeded', (event: CommandSucceededEvent) => {
    counts.msByCommand[event.commandName] = (counts.msByCommand[event.commandName] ?? 0) + event.duration;
    if (event.commandName === 'update') counts.modified += Number((event.reply as { nModified?: unknown }).nModified ?? 0);
  });
  await client.connect();
  return {
    client,
    db: client.db(dbName),
    close: () => client.close(),
    writes: () => ({ ...counts, byCommand: { ...counts.byCommand }, msByCommand: { ...counts.msByCommand } }),
    reset() {
      counts = { commands: 0, statements: 0, byCommand: {}, modified: 0, msByCommand: {} };
    },
  };
}

function arrayLength(value: unknown): number {
  // Bulk writes may send the statements as a document sequence (OP_MSG kind 1); the driver still shows them as an array.
  return Array.isArray(value) ? value.length : 0;
}

/** Which MongoDB-protocol server this is: the embedded store names itself in buildInfo's `journeyStore`. */
export async function mongoServerName(store: MongoStore): Promise<string> {
  const info = (await store.db.admin().command({ buildInfo: 1 })) as { version?: string; journeyStore?: string };
  return info.journeyStore ? `${info.journeyStore} (reports MongoDB ${info.version ?? '?'})` : `MongoDB ${info.version ?? '?'}`;
}

/** Resident memory of the MongoDB server process, in MB, now and at its peak (the kernel's high-water mark). */
export interface ServerMemory {
  rssMb: number;
  peakMb: number;
}

/**
 * The server process's memory when it runs on this machine: serverStatus names its pid (mongod and the embedded
 * store both do), and /proc tells its resident set. Null for a server elsewhere.
 */
export async function serverMemory(store: MongoStore): Promise<ServerMemory | null> {
  const status = (await store.db.admin().command({ serverStatus: 1 })) as { pid?: unknown };
  const pid = Number(status.pid);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return { rssMb: Math.round(mb('VmRSS')), peakMb: Math.round(mb('VmHWM')) };
}
