import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import { STREAM_ID_PATTERN } from './ids.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * Records of an event partition that fail to apply again and again (a poisoned record) must not hold up the
 * partition: after `limit` failures a record moves to the partition's dead letters, with its error, and the drain
 * goes on with the next one. Only failures of the record itself count; a store that is down is not its fault.
 */
export interface DeadLetter {
  partition: number;
  /** The record's id in its event stream. */
  streamId: string;
  /** The record as it was stored (JSON). */
  record: string;
  error: string;
  failures: number;
  /** Epoch ms. */
  at: number;
}

export type FailureOutcome = { status: 'retry'; failures: number } | { status: 'dead' };

export interface DeadLetters {
  readonly limit: number;
  /** Counts one failure of a record; the one that reaches `limit` moves it to the dead letters. */
  noteFailure(partition: number, failed: { streamId: string; record: string; error: string; at: number }): Promise<FailureOutcome>;
  /** Dead letters per partition (index = partition). */
  counts(): Promise<number[]>;
  /** The newest dead letters across partitions, newest first. */
  recent(limit?: number): Promise<DeadLetter[]>;
}

export interface DeadLettersOptions {
  /** Failures after which a record is a dead letter (default 5). */
  limit?: number;
  /** Dead letters kept per partition (default 10,000; older ones are trimmed). */
  kept?: number;
  /** How long a failure count is kept after the last failure (default 7 days). */
  countTtlMs?: number;
}

const ERROR_CHARS = 2_000;

export function createDeadLetters(redis: RedisClient, keys: Keys, options: DeadLettersOptions = {}): DeadLetters {
  const limit = positive('limit', options.limit ?? 5);
  const kept = positive('kept', options.kept ?? 10_000);
  const countTtlMs = positive('countTtlMs', options.countTtlMs ?? 7 * 24 * 60 * 60 * 1000);
  const partitions = Array.from({ length: keys.eventPartitions }, (_, partition) => partition);

  return {
    limit,
    async noteFailure(partition, failed) {
      if (!STREAM_ID_PATTERN.test(failed.streamId))
        throw new InvalidInputError('stream id must look like "<ms>-<seq>"', { streamId: failed.streamId });
      const reply = await runScript(
        redis,
        'noteRecordFailure',
        [keys.eventFailures(partition), keys.deadLetters(partition)],
        [failed.streamId, limit, failed.record, failed.error.slice(0, ERROR_CHARS), failed.at, kept, countTtlMs],
      );
      if (reply === 0) return { status: 'dead' };
      if (typeof reply === 'number' && Number.isSafeInteger(reply) && reply > 0) return { status: 'retry', failures: reply };
      throw new UnexpectedReplyError({ script: 'noteRecordFailure', reply });
    },

    // One command per partition (each its own slot), pipelined by the connection: nothing crosses slots.
    counts: () => Promise.all(partitions.map((partition) => redis.xlen(keys.deadLetters(partition)))),

    async recent(count = 20) {
      const perPartition = await Promise.all(
        partitions.map(async (partition) =>
          (await redis.xrevrange(keys.deadLetters(partition), '+', '-', 'COUNT', count)).map((entry) => toDeadLetter(partition, entry)),
        ),
      );
      return perPartition
        .flat()
        .filter((letter): letter is DeadLetter => letter !== null)
        .sort((a, b) => b.at - a.at)
        .slice(0, count);
    },
  };
}

function toDeadLetter(partition: number, [, fields]: [string, string[]]): DeadLetter | null {
  const value: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) value[fields[index]!] = fields[index + 1]!;
  const failures = Number(value.failures);
  const at = Number(value.at);
  if (
    value.streamId === undefined ||
    value.record === undefined ||
    value.error === undefined ||
    !Number.isSafeInteger(failures) ||
    !Number.isSafeInteger(at)
  )
    return null;
  return { partition, streamId: value.streamId, record: value.record, error: value.error, failures, at };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new InvalidInputError(`${name} must be a positive integer`, { [name]: value });
  return value;
}
