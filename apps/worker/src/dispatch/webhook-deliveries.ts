import type { SendHistory } from '@journey/redis';
import type { WebhookChannel } from '@journey/webhook';
import type { Deliveries } from './deliveries.js';

/** Dispatch's view of the webhook channel and of the users' send history (frequency caps, recalled answers). */
export function createWebhookDeliveries(channel: WebhookChannel, history: SendHistory): Deliveries {
  return {
    async attempt(message, options) {
      const result = await channel.attempt(message, options ?? {});
      if (result.status === 'sent')
        await history.note(message.userId, message.messageId, result.attempt.at.getTime() + result.attempt.durationMs);
      else if (result.status === 'failed') await history.noteRefused(message.messageId, result.reason);
      return result;
    },
    recall: (userId, messageId) => history.recall(userId, messageId),
    sentSince: (userId, sinceMs) => history.sentSince(userId, sinceMs),
  };
}
