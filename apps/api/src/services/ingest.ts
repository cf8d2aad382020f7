import { randomBytes } from 'node:crypto';
import type { Logger } from '@journey/config';
import type { JsonObject, UserEventInput } from '@journey/core';
import { RedisStoreError, type AcceptInput, type AcceptResult, type DrainQueue, type EventsStream, type RedisClient } from '@journey/redis';

/**
 * Appending ingest records (events, attribute changes, api entries) to the users' event partitions, the one path
 * by which anything reaches a user's journeys (docs/architecture.md, "Entering and leaving journeys"). A record
 * is durable once `append` resolves `ok`; only then may the caller answer 2xx.
 */

/**
 * `none`: nothing was written, Redis was not even asked. `unknown`: a write was attempted and failed, so some
 * partitions may hold their records; a retry is safe for records with client ids (they are de-duplicated).
 */
export type NotStored = 'none' | 'unknown';

export type AppendOutcome = { ok: true; results: AcceptResult[] } | { ok: false; stored: NotStored };

export interface Ingest {
  /** Whether the Redis connection is up right now: callers with a write to make first check this, to refuse cleanly. */
  isAvailable(): boolean;
  /**
   * Appends the records (results in input order), then asks for the touched partitions to be drained. A failed
   * drain request is logged, not returned: the worker's sweeper drains every non-empty partition anyway.
   */
  append(inputs: readonly AcceptInput[]): Promise<AppendOutcome>;
}

export interface IngestOptions {
  /** The connection `events` writes through: its state says whether an append can be tried at all. */
  redis: Pick<RedisClient, 'status'>;
  events: Pick<EventsStream, 'accept'>;
  drains: Pick<DrainQueue, 'requestDrain'>;
  dedupWindowSeconds: number;
  logger: Pick<Logger, 'warn'>;
}

export function createIngest({ redis, events, drains, dedupWindowSeconds, logger }: IngestOptions): Ingest {
  const isAvailable = () => redis.status === 'ready';
  return {
    isAvailable,
    async append(inputs) {
      if (inputs.length === 0) return { ok: true, results: [] };
      // A fail-fast connection that is down refuses every command before sending it: say so precisely.
      if (!isAvailable()) return { ok: false, stored: 'none' };
      let results: AcceptResult[];
      try {
        results = await events.accept(inputs, { dedupWindowSeconds });
      } catch (error) {
        // An unrecoverable store error means we built a bad record or key: a bug, left to the 500 path.
        if (error instanceof RedisStoreError && error.unrecoverable) throw error;
        logger.warn({ err: error, records: inputs.length }, 'appending ingest records failed');
        return { ok: false, stored: 'unknown' };
      }
      const touched = new Set(results.flatMap((result) => (result.status === 'accepted' ? [result.partition] : [])));
      if (touched.size > 0) {
        try {
          await drains.requestDrain(touched);
        } catch (error) {
          logger.warn({ err: error, partitions: [...touched] }, 'requesting drains failed; the sweeper will drain these partitions');
        }
      }
      return { ok: true, results };
    },
  };
}

/** Engine-assigned record ids: never de-duplicated, and unique enough that derived entry ids never collide. */
function recordId(kind: 'evt' | 'attr' | 'ent' | 'era'): string {
  return `${kind}_${randomBytes(12).toString('base64url')}`;
}

/** An app's event as a record: its own id is de-duplicated; without one, the engine's id is not. */
export function eventRecord(event: UserEventInput, now: number): AcceptInput {
  return {
    record: {
      type: 'event',
      id: event.id ?? recordId('evt'),
      userId: event.userId,
      name: event.name,
      time: event.time === undefined ? now : Date.parse(event.time),
      properties: event.properties ?? {},
    },
    deduplicate: event.id !== undefined,
  };
}

/** Tells the user's drain that attributes changed (the attributes themselves are in MongoDB already). */
export function attributesRecord(userId: string, now: number): AcceptInput {
  return { record: { type: 'attributes', id: recordId('attr'), userId, time: now }, deduplicate: false };
}

/**
 * An api entry into `journeyId` (reentry rules decide at apply time). With the caller's `id` it is de-duplicated
 * like an event id (within the window, under a name no event id of the user can take) and its entry id derives
 * from it; without one each call is a new entry request.
 */
export function enterRecord(
  journeyId: string,
  entry: { userId: string; properties?: JsonObject | undefined; id?: string | undefined },
  now: number,
): AcceptInput {
  const record: AcceptInput['record'] = {
    type: 'enter',
    id: entry.id === undefined ? recordId('ent') : `\u0000entry:${journeyId}:${entry.id}`,
    userId: entry.userId,
    journeyId,
    time: now,
    ...(entry.properties === undefined ? {} : { properties: entry.properties }),
    ...(entry.id === undefined ? {} : { entryKey: entry.id }),
  };
  return { record, deduplicate: entry.id !== undefined };
}

/** Erases the user, in order with their records: records accepted before it are never applied (see eraseUser). */
export function eraseRecord(userId: string, now: number): AcceptInput {
  return { record: { type: 'erase', id: recordId('era'), userId, time: now }, deduplicate: false };
}
