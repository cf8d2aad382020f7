import type { SendRecord, SendsRepository } from '@journey/mongo';
import type { WebhookChannel, WebhookMessage, WebhookSendResult } from '../channels/webhook.js';
import type { Deliveries } from './deliveries.js';

/** Told of every send that ended `failed` (the operators' recent failures). */
export type OnSendFailed = (message: WebhookMessage, result: Extract<WebhookSendResult, { status: 'failed' }>) => void;

function recordOf(message: WebhookMessage, fields: Pick<SendRecord, 'status' | 'reason' | 'attempts' | 'createdAt' | 'completedAt'>): SendRecord {
  const { payload: _payload, ...sent } = message;
  return { ...sent, ...fields };
}

/** Dispatch's view of the webhook channel and the `sends` record. */
export function createWebhookDeliveries(
  channel: WebhookChannel,
  sends: SendsRepository,
  now: () => number = Date.now,
  onFailed?: OnSendFailed,
): Deliveries {
  return {
    async recordedMany(messageIds) {
      const ended = new Map<string, 'sent' | 'failed' | 'skipped'>();
      // A pending record (written by versions that recorded a try before it ended) is a try that crashed: send again.
      for (const send of await sends.getMany(messageIds)) if (send.status !== 'pending') ended.set(send.messageId, send.status);
      return ended;
    },
    async send(message) {
      const result = await channel.send(message);
      if (result.status === 'failed') onFailed?.(message, result);
      const reason = result.status === 'failed' ? result.reason : null;
      return recordOf(message, { status: result.status, reason, attempts: result.attempts, createdAt: result.startedAt, completedAt: new Date(now()) });
    },
    skip(message, reason) {
      const at = new Date(now());
      return recordOf(message, { status: 'skipped', reason, attempts: [], createdAt: at, completedAt: at });
    },
    record: (records) => sends.recordMany(records),
    async sentSince(userId, sinceMs) {
      const sent = await sends.recentSendsForUser(userId, new Date(sinceMs));
      return sent.flatMap((send) => (send.completedAt ? [send.completedAt.getTime()] : []));
    },
  };
}
