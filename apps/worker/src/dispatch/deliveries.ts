import type { SendRecord } from '@journey/mongo';
import type { WebhookMessage } from '../channels/webhook.js';

/** One message as the channel sends it: the webhook channel's message (the contract's body, plus where to). */
export type OutgoingMessage = WebhookMessage;

export type SkipReason = 'muted' | 'frequency_cap';

/** What dispatch needs of the channel and of the record of sends; the webhook channel provides it. */
export interface Deliveries {
  /**
   * How earlier tries of these messages ended, for those that did: a retried dispatch honours it instead of deciding
   * again (a message it sent must not be sent again, count against the user's frequency cap, nor be skipped now).
   */
  recordedMany(messageIds: readonly string[]): Promise<Map<string, 'sent' | 'failed' | 'skipped'>>;
  /** Sends the message (retrying within the channel's budget) and returns its record, not yet written. */
  send(message: OutgoingMessage): Promise<SendRecord>;
  /** The record of a message that is not sent on purpose (counted as skipped), not yet written. */
  skip(message: OutgoingMessage, reason: SkipReason): SendRecord;
  /**
   * Writes a batch's records at once; before its commits, so a retry never sends a recorded message again.
   * Returns the ids of messages a racing try had recorded first (their outcome was counted by that try).
   */
  record(records: readonly SendRecord[]): Promise<string[]>;
  /** When the user's messages were sent since `sinceMs` (epoch ms), for the frequency cap. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
}
