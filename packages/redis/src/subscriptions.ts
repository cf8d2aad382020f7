import type { Redis } from 'ioredis';
import { InvalidInputError } from './errors.js';
import type { Keys } from './keys.js';

/** Muted message types per user: a set, so muting twice or unmuting an unmuted type is harmless. */

export interface Subscriptions {
  /** Applies both lists atomically; a type may not be in both. */
  update(userId: string, change: { muted?: readonly string[]; unmuted?: readonly string[] }): Promise<void>;
  mute(userId: string, messageTypes: readonly string[]): Promise<void>;
  unmute(userId: string, messageTypes: readonly string[]): Promise<void>;
  isMuted(userId: string, messageType: string): Promise<boolean>;
  /** The muted types, sorted. */
  muted(userId: string): Promise<string[]>;
  /** Forgets every mute of the user (erasure). */
  clear(userId: string): Promise<void>;
}

/** As in the journey schema of @journey/core: any non-empty string of at most 100 characters. */
const MAX_MESSAGE_TYPE_LENGTH = 100;

export function createSubscriptions(redis: Redis, keys: Keys): Subscriptions {
  const update: Subscriptions['update'] = async (userId, { muted = [], unmuted = [] }) => {
    const key = keys.subscriptions(userId);
    for (const type of [...muted, ...unmuted]) messageType(type);
    const overlap = muted.filter((type) => unmuted.includes(type));
    if (overlap.length > 0) throw new InvalidInputError('a message type cannot be muted and unmuted at once', { overlap });
    if (muted.length === 0 && unmuted.length === 0) return;
    const multi = redis.multi();
    if (muted.length > 0) multi.sadd(key, ...muted);
    if (unmuted.length > 0) multi.srem(key, ...unmuted);
    const replies = await multi.exec();
    for (const [error] of replies ?? []) if (error) throw error;
  };

  return {
    update,
    mute: (userId, messageTypes) => update(userId, { muted: messageTypes }),
    unmute: (userId, messageTypes) => update(userId, { unmuted: messageTypes }),
    async isMuted(userId, type) {
      return (await redis.sismember(keys.subscriptions(userId), messageType(type))) === 1;
    },
    async muted(userId) {
      const members = await redis.smembers(keys.subscriptions(userId));
      // Only what update() could have written counts; anything else in the set is ignored.
      return members.filter(isMessageType).sort();
    },
    async clear(userId) {
      await redis.del(keys.subscriptions(userId));
    },
  };
}

function isMessageType(value: string): boolean {
  return value.length >= 1 && value.length <= MAX_MESSAGE_TYPE_LENGTH;
}

function messageType(value: string): string {
  if (!isMessageType(value))
    throw new InvalidInputError(`message type must be 1 to ${MAX_MESSAGE_TYPE_LENGTH} characters`, { messageType: value });
  return value;
}
