import type { NotedAnswer, SendHistory } from '@journey/redis';
import type { WebhookChannel } from '@journey/webhook';
import DataLoader from 'dataloader';
import type { Deliveries } from './deliveries.js';

/** How long a receiver's answer waits for others to be noted with it: sends of a batch end within milliseconds. */
const NOTE_WAIT_MS = 2;

/**
 * Dispatch's view of the webhook channel and of the users' send history (frequency caps, recalled answers). The
 * answers of sends that end within a few milliseconds of each other are noted together: one script per due shard.
 */
export function createWebhookDeliveries(channel: WebhookChannel, history: SendHistory): Deliveries {
  const notes = new DataLoader<NotedAnswer, boolean>((answers) => history.noteMany(answers), {
    cache: false,
    maxBatchSize: 500,
    batchScheduleFn: (callback) => setTimeout(callback, NOTE_WAIT_MS),
  });
  return {
    async attempt(message, options) {
      const result = await channel.attempt(message, options ?? {});
      const { userId, messageId } = message;
      if (result.status === 'sent')
        await notes.load({ status: 'sent', userId, messageId, at: result.attempt.at.getTime() + result.attempt.durationMs });
      else if (result.status === 'failed') await notes.load({ status: 'refused', userId, messageId, reason: result.reason });
      return result;
    },
    recall: (userId, messageId) => history.recall(userId, messageId),
    sentSince: (userId, sinceMs) => history.sentSince(userId, sinceMs),
  };
}
