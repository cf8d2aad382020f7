import type { SendsRepository } from '@journey/mongo';
import type { WebhookChannel, WebhookMessage, WebhookSendResult } from '../channels/webhook.js';
import type { Deliveries } from './deliveries.js';

/** Told of every send that ended `failed` for good (the operators' recent failures). */
export type OnSendFailed = (message: WebhookMessage, result: WebhookSendResult) => void;

/** Dispatch's view of the webhook channel and the `sends` record. */
export function createWebhookDeliveries(
  channel: WebhookChannel,
  sends: SendsRepository,
  now: () => number = Date.now,
  onFailed?: OnSendFailed,
): Deliveries {
  return {
    async recorded(messageId) {
      const send = await sends.get(messageId);
      // A pending record is a try that crashed mid-send: send it again (same Idempotency-Key).
      return send === null || send.status === 'pending' ? null : send.status;
    },
    async send(message) {
      const result = await channel.send(message);
      if (result.status === 'failed') onFailed?.(message, result);
      return result.status;
    },
    async skip(message, reason) {
      const at = new Date(now());
      await sends.begin({ ...message, now: at });
      await sends.complete(message.messageId, { status: 'skipped', reason, now: at });
    },
    async sentSince(userId, sinceMs) {
      const sent = await sends.recentSendsForUser(userId, new Date(sinceMs));
      return sent.flatMap((send) => (send.completedAt ? [send.completedAt.getTime()] : []));
    },
  };
}
