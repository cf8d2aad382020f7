import { readFileSync } from 'node:fs';
import type { MongoStore } from '@journey/mongo';
import { BSON, MongoClient, type CommandStartedEvent, type CommandSucceededEvent } from 'mongodb';

export interface MongoTraffic {
  /** Every command sent (reads, writes, and the driver's own such as `hello`). */
  operations: number;
  /** BSON bytes of the commands sent and of their replies. */
  bytesSent: number;
  bytesReceived: number;
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
 * the code using it issues is counted from the driver's `commandStarted` events, and every command with its size and
 * its reply's. `traffic()` reads the counters;
 * `reset()` zeroes them between phases.
 */
export async function connectMeteredMongo(uri: string, dbName: string): Promise<MongoStore & { traffic(): MongoTraffic; reset(): void }> {
  const client = new MongoClient(uri, {
    appName: 'journey-bench',
    monitorCommands: true,
    serverSelectionTimeoutMS: 5_000,
    retryWrites: true,
    retryReads: true,
  });
  const zero = (): MongoTraffic => ({
    operations: 0,
    bytesSent: 0,
    bytesReceived: 0,
    commands: 0,
    statements: 0,
    byCommand: {},
    modified: 0,
    msByCommand: {},
  });
  let counts = zero();
  client.on('commandStarted', (event: CommandStartedEvent) => {
    counts.operations++;
    counts.bytesSent += BSON.calculateObjectSize(event.command);
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
    counts.bytesReceived += BSON.calculateObjectSize(event.reply as BSON.Document);
    counts.msByCommand[event.commandName] = (counts.msByCommand[event.commandName] ?? 0) + event.duration;
    if (event.commandName === 'update') counts.modified += Number((event.reply as { nModified?: unknown }).nModified ?? 0);
  });
  await client.connect();
  return {
    client,
    db: client.db(dbName),
    close: () => client.close(),
    traffic: () => ({ ...counts, byCommand: { ...counts.byCommand }, msByCommand: { ...counts.msByCommand } }),
    reset() {
      counts = zero();
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

/** A file of the server process's /proc entry when it runs on this machine (serverStatus names its pid: mongod and the embedded store both do); null for a server elsewhere. */
async function serverProcFile(store: MongoStore, file: 'status' | 'stat'): Promise<string | null> {
  const status = (await store.db.admin().command({ serverStatus: 1 })) as { pid?: unknown };
  const pid = Number(status.pid);
  if (!Number.isSafeInteger(pid) || pid <= 0) return null;
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return null;
  }
}

/** The server process's CPU time (user + system) since it started, in ms; null when it is not on this machine. */
export async function serverCpuMs(store: MongoStore): Promise<number | null> {
  const stat = await serverProcFile(store, 'stat');
  if (stat === null) return null;
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th, in clock ticks (USER_HZ, 100 on Linux).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The server process's memory when it runs on this machine (its /proc status); null for a server elsewhere. */
export async function serverMemory(store: MongoStore): Promise<ServerMemory | null> {
  const text = await serverProcFile(store, 'status');
  if (text === null) return null;
  const mb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return { rssMb: Math.round(mb('VmRSS')), peakMb: Math.round(mb('VmHWM')) };
}
