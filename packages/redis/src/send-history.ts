import { createHash } from 'node:crypto';
import { FREQUENCY_CAP_LOOKBACK_MS } from '@journey/core';
import type { Redis } from 'ioredis';
import { InvalidInputError, UnexpectedReplyError } from './errors.js';
import type { Keys } from './keys.js';
import { runScript } from './scripts.js';

/**
 * When each user's messages were sent, across journeys: what a frequency cap counts. One sorted set per user,
 * a member per message, scored by the time it was sent; what is older than the history keeps is dropped as new
 * sends are noted, and the key expires once the user's newest send is that old. Kept in Redis, not as a MongoDB
 * write per send: a message step commits the user's state with its one write, and the cap reads one key.
 */
export interface SendHistory {
  /** How long a send is kept (ms): a cap's window counts at most this far back. */
  readonly keepMs: number;
  /** Notes a sent message; noting it again (a retried send) changes nothing. True when it was noted now. */
  note(userId: string, messageId: string, sentAtMs: number): Promise<boolean>;
  /** When the user's kept messages were sent after `sinceMs` (epoch ms), oldest first. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
}

/** 96 bits of the message id: unique among one user's messages, and a sixth of a message id's bytes in memory. */
function member(messageId: string): string {
  if (messageId.length === 0) throw new InvalidInputError('message id must not be empty');
  return createHash('sha1').update(messageId).digest('base64url').slice(0, 16);
}

function epochMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidInputError(`${name} must be a non-negative integer of epoch ms`, { [name]: value });
  return value;
}

/** `keepMs` defaults to how far back a frequency cap counts (core's FREQUENCY_CAP_LOOKBACK_MS); tests shorten it. */
export function createSendHistory(redis: Redis, keys: Keys, { keepMs = FREQUENCY_CAP_LOOKBACK_MS }: { keepMs?: number } = {}): SendHistory {
  if (!Number.isSafeInteger(keepMs) || keepMs < 1) throw new InvalidInputError('keepMs must be a positive integer', { keepMs });

  return {
    keepMs,
    async note(userId, messageId, sentAtMs) {
      const reply = await runScript(redis, 'recordSend', [keys.sendHistory(userId)], [member(messageId), epochMs('sentAtMs', sentAtMs), keepMs]);
      if (reply !== 0 && reply !== 1) throw new UnexpectedReplyError({ script: 'recordSend', reply });
      return reply === 1;
    },
    async sentSince(userId, sinceMs) {
      const reply = await redis.zrangebyscore(keys.sendHistory(userId), `(${epochMs('sinceMs', sinceMs)}`, '+inf', 'WITHSCORES');
      const times: number[] = [];
      for (let index = 1; index < reply.length; index += 2) times.push(Number(reply[index]));
      return times;
    },
  };
}
