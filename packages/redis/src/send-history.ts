import { createHash } from 'node:crypto';
import { FREQUENCY_CAP_LOOKBACK_MS } from '@journey/core';
import type { RedisClient } from './connection.js';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import type { Keys } from './keys.js';
import { bySlot, runScript } from './scripts.js';

/**
 * When each user's messages were sent, across journeys: what a frequency cap counts. Kept in Redis, not as a
 * MongoDB write per send: a message step commits the user's state with its one write, and the cap reads one field.
 *
 * Users share hashes (buckets, `keys.sendHistory`) instead of having a key each: a key costs ~150 bytes of Redis
 * before it holds anything, while a user's field in a compact bucket costs its bytes plus a few. The field is a
 * digest of the user id (8 bytes) and holds the user's sends, 12 bytes each: the epoch ms (6 bytes) and a digest of
 * the message id (6 bytes: unique among one user's messages of a month). Sends older than the history keeps are
 * dropped when the user is noted again; the bucket is swept of users whose sends all aged out once a day; and it
 * expires once its newest send is that old. The layout is noteSends-N.lua's. A user's bucket carries the tag of
 * the user's due shard, so a batch notes its sends with one script.
 */
export interface SendHistory {
  /** How long a send is kept (ms): a cap's window counts at most this far back. */
  readonly keepMs: number;
  /**
   * Notes what receivers answered many sends: a sent message (noting it again, a retried send, changes nothing) or a
   * refused one (kept for a day: long enough for any retry of its step). One script per cluster slot: a batch's users
   * share their due shard's tag. True where a send was noted now (always for a refusal).
   */
  noteMany(answers: readonly NotedAnswer[]): Promise<boolean[]>;
  /** Notes a sent message; noting it again (a retried send) changes nothing. True when it was noted now. */
  note(userId: string, messageId: string, sentAtMs: number): Promise<boolean>;
  /** When the user's kept messages were sent after `sinceMs` (epoch ms), oldest first. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
  /** Notes that the receiver refused a message for good (see noteMany). */
  noteRefused(userId: string, messageId: string, reason: string): Promise<void>;
  /**
   * What the receiver answered to an earlier try of a message, as noted: a retried step records that instead of
   * posting the message again. Null when nothing was noted (it was never answered, or the answer was a retry).
   */
  recall(userId: string, messageId: string): Promise<{ status: 'sent'; at: number } | { status: 'refused'; reason: string } | null>;
  /** Forgets the user's sends (erasure). */
  forget(userId: string): Promise<void>;
}

/** A receiver's answer to note: the message was sent (at `at`, epoch ms), or refused for good. */
export type NotedAnswer =
  | { status: 'sent'; userId: string; messageId: string; at: number }
  | { status: 'refused'; userId: string; messageId: string; reason: string };

const RECORD_BYTES = 12;
const REFUSED_KEPT_MS = 24 * 60 * 60 * 1000;
const SWEEP_EVERY_MS = 24 * 60 * 60 * 1000;

function digest(text: string, bytes: number): Buffer {
  return createHash('sha1').update(text).digest().subarray(0, bytes);
}

function userField(userId: string): Buffer {
  return digest(userId, 8);
}

function messageDigest(messageId: string): Buffer {
  if (messageId.length === 0) throw new InvalidInputError('message id must not be empty');
  return digest(messageId, 6);
}

function epochMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidInputError(`${name} must be a non-negative integer of epoch ms`, { [name]: value });
  return value;
}

/** `keepMs` defaults to how far back a frequency cap counts (core's FREQUENCY_CAP_LOOKBACK_MS); tests shorten it. */
export function createSendHistory(
  redis: RedisClient,
  keys: Keys,
  { keepMs = FREQUENCY_CAP_LOOKBACK_MS }: { keepMs?: number } = {},
): SendHistory {
  if (!Number.isSafeInteger(keepMs) || keepMs < 1) throw new InvalidInputError('keepMs must be a positive integer', { keepMs });

  const keyOf = (answer: NotedAnswer) =>
    answer.status === 'sent' ? keys.sendHistory(answer.userId) : keys.refusedMessage(answer.userId, answer.messageId);

  const noteMany: SendHistory['noteMany'] = (answers) => {
    const args = answers.map((answer): Array<string | number | Buffer> => {
      if (answer.status === 'sent') return ['s', userField(answer.userId), messageDigest(answer.messageId), epochMs('sentAtMs', answer.at)];
      if (answer.reason.length === 0) throw new InvalidInputError('a refusal needs its reason', { messageId: answer.messageId });
      return ['r', answer.reason, '', ''];
    });
    const argsOf = new Map(answers.map((answer, index) => [answer, args[index]!]));
    return bySlot(answers, keyOf, async (group, groupKeys) => {
      const reply = await runScript(redis, 'noteSends', groupKeys, [
        keepMs,
        SWEEP_EVERY_MS,
        REFUSED_KEPT_MS,
        ...group.flatMap((answer) => argsOf.get(answer)!),
      ]);
      if (!Array.isArray(reply) || reply.length !== group.length || reply.some((each) => each !== 0 && each !== 1))
        throw new UnexpectedReplyError({ script: 'noteSends', reply });
      return reply.map((each) => each === 1);
    });
  };

  return {
    keepMs,
    noteMany,
    async note(userId, messageId, sentAtMs) {
      const [noted] = await noteMany([{ status: 'sent', userId, messageId, at: sentAtMs }]);
      return noted!;
    },
    async sentSince(userId, sinceMs) {
      epochMs('sinceMs', sinceMs);
      const sends = await redis.hgetBuffer(keys.sendHistory(userId), userField(userId));
      const times: number[] = [];
      for (let offset = 0; sends !== null && offset + RECORD_BYTES <= sends.length; offset += RECORD_BYTES) {
        const at = sends.readUIntBE(offset, 6);
        if (at > sinceMs) times.push(at);
      }
      return times.sort((a, b) => a - b);
    },
    async noteRefused(userId, messageId, reason) {
      await noteMany([{ status: 'refused', userId, messageId, reason }]);
    },
    async recall(userId, messageId) {
      const wanted = messageDigest(messageId);
      const [sends, refused] = await Promise.all([
        redis.hgetBuffer(keys.sendHistory(userId), userField(userId)),
        redis.get(keys.refusedMessage(userId, messageId)),
      ]);
      for (let offset = 0; sends !== null && offset + RECORD_BYTES <= sends.length; offset += RECORD_BYTES) {
        if (sends.subarray(offset + 6, offset + RECORD_BYTES).equals(wanted)) return { status: 'sent', at: sends.readUIntBE(offset, 6) };
      }
      return refused === null ? null : { status: 'refused', reason: refused };
    },
    async forget(userId) {
      await redis.hdel(keys.sendHistory(userId), userField(userId));
    },
  };
}
