import type { RedisClient } from '../src/connection.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../src/errors.js';
import { createSubscriptions } from '../src/subscriptions.js';
import { closeAll, connect, freshKeys } from './helpers.js';

let redis: RedisClient;
beforeAll(async () => {
  redis = await connect();
});
afterAll(closeAll);

describe('subscriptions', () => {
  it('mutes and unmutes message types per user', async () => {
    const subscriptions = createSubscriptions(redis, freshKeys());
    expect(await subscriptions.muted('u1')).toEqual([]);
    expect(await subscriptions.isMuted('u1', 'promo')).toBe(false);

    await subscriptions.mute('u1', ['promo', 'Weekly digest']);
    await subscriptions.mute('u1', ['promo']);
    expect(await subscriptions.muted('u1')).toEqual(['Weekly digest', 'promo']);
    expect(await subscriptions.isMuted('u1', 'promo')).toBe(true);
    expect(await subscriptions.isMuted('u2', 'promo')).toBe(false);

    await subscriptions.update('u1', { muted: ['receipt'], unmuted: ['promo', 'never-muted'] });
    expect(await subscriptions.muted('u1')).toEqual(['Weekly digest', 'receipt']);
    await subscriptions.unmute('u1', ['Weekly digest', 'receipt']);
    expect(await subscriptions.muted('u1')).toEqual([]);
  });

  it('refuses contradictory or malformed changes', async () => {
    const keys = freshKeys();
    const subscriptions = createSubscriptions(redis, keys);
    await expect(subscriptions.update('u1', { muted: ['promo'], unmuted: ['promo'] })).rejects.toThrow(InvalidInputError);
    await expect(subscriptions.mute('u1', [''])).rejects.toThrow(InvalidInputError);
    await expect(subscriptions.mute('u|1', ['promo'])).rejects.toThrow(InvalidInputError);
    expect(await redis.exists(keys.subscriptions('u1'))).toBe(0);
  });
});
