import type { SendsRepository } from '@journey/mongo';
import type { WebhookChannel } from '../channels/webhook.js';
import type { Deliveries } from './deliveries.js';

/** Dispatch's view of the webhook channel and the `sends` record. */
export function createWebhookDeliveries(channel: WebhookChannel, sends: SendsRepository, now: () => number = Date.now): Deliveries {
  return {
    async recorded(messageId) {
      const send = await sends.get(messageId);
      // A pending record is a try that crashed mid-send: send it again (same Idempotency-Key).
      return send === null || send.status === 'pending' ? null : send.status;
    },
    async send(message) {
      return (await channel.send(message)).status;
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
