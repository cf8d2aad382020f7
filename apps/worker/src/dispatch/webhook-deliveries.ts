import type { SendHistory } from '@journey/redis';
import type { WebhookChannel, WebhookMessage, WebhookSendResult } from '../channels/webhook.js';
import type { Deliveries } from './deliveries.js';

/** Told of every send that ended `failed` (the operators' recent failures). */
export type OnSendFailed = (message: WebhookMessage, result: Extract<WebhookSendResult, { status: 'failed' }>) => void;

/** Dispatch's view of the webhook channel and of the users' send history (frequency caps). */
export function createWebhookDeliveries(channel: WebhookChannel, history: SendHistory, now: () => number = Date.now, onFailed?: OnSendFailed): Deliveries {
  return {
    async send(message) {
      const result = await channel.send(message);
      const completedAt = new Date(now());
      if (result.status === 'failed') {
        onFailed?.(message, result);
        return { status: 'failed', reason: result.reason, attempts: result.attempts.length, completedAt };
      }
      await history.note(message.userId, message.messageId, completedAt.getTime());
      return { status: 'sent', reason: null, attempts: result.attempts.length, completedAt };
    },
    skip(_message, reason) {
      return { status: 'skipped', reason, attempts: 0, completedAt: new Date(now()) };
    },
    sentSince: (userId, sinceMs) => history.sentSince(userId, sinceMs),
  };
}
