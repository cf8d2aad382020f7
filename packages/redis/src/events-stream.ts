import { groupBy, IngestRecordSchema, type IngestRecord } from '@journey/core';
import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import { STREAM_ID_PATTERN } from './ids.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * The event streams: one per partition, users hashed to partitions, so one user's records (events,
 * attribute changes, api entries) keep their order while partitions drain in parallel. An accepted record
 * stays in its stream until its drain acknowledges it; nothing trims unprocessed entries.
 * A record is stored as JSON in field "e" and read back through core's IngestRecordSchema.
 */

/** One record to append; `deduplicate` when `record.id` is the client's own id (not one the engine assigned). */
export interface AcceptInput {
  record: IngestRecord;
  deduplicate: boolean;
}

export const DEFAULT_DEDUP_WINDOW_SECONDS = 24 * 60 * 60;

export type AcceptResult = { status: 'accepted'; partition: number; streamId: string } | { status: 'duplicate'; partition: number };

/** A stream entry read back: the event, or why it could not be read (the drain skips and reports it). */
export type StreamEntry =
  { streamId: string; ok: true; record: IngestRecord } | { streamId: string; ok: false; error: string; raw: unknown };

export interface EventsStream {
  /**
   * Accepts records: per partition, one script de-duplicates client ids and appends the rest, in order.
   * Results are in input order. A record marked `deduplicate` whose id was accepted within the window (for the
   * same user) is a duplicate and not appended; other records are never de-duplicated.
   */
  accept(inputs: readonly AcceptInput[], options?: { dedupWindowSeconds?: number }): Promise<AcceptResult[]>;
  /** Up to `count` entries of a partition after `after` (exclusive; from the start when omitted), oldest first. */
  read(partition: number, options?: { after?: string; count?: number }): Promise<StreamEntry[]>;
  /** Removes the entries up to and including `upTo` once they are applied; returns how many were removed. */
  acknowledge(partition: number, upTo: string): Promise<number>;
  /** Entries waiting per partition (index = partition), for the sweeper and /v1/ops/queues. */
  lengths(): Promise<number[]>;
}

export function createEventsStream(redis: RedisClient, keys: Keys): EventsStream {
  return {
    async accept(inputs, options = {}) {
      const window = options.dedupWindowSeconds ?? DEFAULT_DEDUP_WINDOW_SECONDS;
      if (!Number.isInteger(window) || window < 1) throw new InvalidInputError('dedupWindowSeconds must be a positive integer', { window });

      // Everything is validated before anything is written: a bad record fails the call, not half of it.
      const stored = inputs.map((input, index) => {
        const parsed = IngestRecordSchema.safeParse(input.record);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new InvalidInputError(`record ${index} cannot be stored: ${issue?.path.join('.')} ${issue?.message ?? 'invalid'}`, {
            index,
          });
        }
        return { record: parsed.data, deduplicate: input.deduplicate };
      });
      const byPartition = groupBy(stored.keys(), (index) => keys.eventPartitionOf(stored[index]!.record.userId));

      const results = new Array<AcceptResult>(inputs.length);
      await Promise.all(
        [...byPartition].map(async ([partition, indexes]) => {
          const dedupKeys: string[] = [];
          const dedupSlot = new Map<string, number>();
          const args: (string | number)[] = [window, indexes.length];
          for (const index of indexes) {
            const { record, deduplicate } = stored[index]!;
            let slot = 0;
            if (deduplicate) {
              const key = keys.eventDedup(partition, record.userId, record.id);
              slot = dedupSlot.get(key) ?? dedupKeys.push(key);
              dedupSlot.set(key, slot);
            }
            args.push(slot, JSON.stringify(record));
          }
          const reply = await runScript(redis, 'acceptEvents', [keys.eventStream(partition), ...dedupKeys], args);
          if (!Array.isArray(reply) || reply.length !== indexes.length) throw new UnexpectedReplyError({ script: 'acceptEvents', reply });
          indexes.forEach((index, position) => {
            const streamId: unknown = reply[position];
            if (streamId === 0) results[index] = { status: 'duplicate', partition };
            else if (typeof streamId === 'string' && STREAM_ID_PATTERN.test(streamId))
              results[index] = { status: 'accepted', partition, streamId };
            else throw new UnexpectedReplyError({ script: 'acceptEvents', reply });
          });
        }),
      );
      return results;
    },

    async read(partition, options = {}) {
      const count = options.count ?? 100;
      if (options.after !== undefined) streamId(options.after);
      const start = options.after === undefined ? '-' : `(${options.after}`;
      const entries = await redis.xrange(keys.eventStream(partition), start, '+', 'COUNT', count);
      return entries.map(([id, fields]): StreamEntry => {
        const index = fields.findIndex((field, position) => position % 2 === 0 && field === 'e');
        const raw = index === -1 ? undefined : fields[index + 1];
        if (raw === undefined) return { streamId: id, ok: false, error: 'entry has no field "e"', raw: fields };
        let json: unknown;
        try {
          json = JSON.parse(raw);
        } catch {
          return { streamId: id, ok: false, error: 'field "e" is not JSON', raw };
        }
        const parsed = IngestRecordSchema.safeParse(json);
        return parsed.success
          ? { streamId: id, ok: true, record: parsed.data }
          : {
              streamId: id,
              ok: false,
              error: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
              raw,
            };
      });
    },

    async acknowledge(partition, upTo) {
      // XTRIM MINID keeps ids >= the threshold, so the threshold is the id right after upTo.
      const [ms, seq] = streamId(upTo);
      return redis.xtrim(keys.eventStream(partition), 'MINID', `${ms}-${seq + 1n}`);
    },

    // One command per partition, each on its own slot: a pipeline across slots fails on a cluster.
    lengths: () => Promise.all(Array.from({ length: keys.eventPartitions }, (_, partition) => redis.xlen(keys.eventStream(partition)))),
  };
}

function streamId(value: string): [bigint, bigint] {
  if (!STREAM_ID_PATTERN.test(value)) throw new InvalidInputError('stream id must look like "<ms>-<seq>"', { streamId: value });
  const [ms, seq] = value.split('-') as [string, string];
  return [BigInt(ms), BigInt(seq)];
}
