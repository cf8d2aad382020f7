import type { WebhookMessage } from '../channels/webhook.js';

/** One message as the channel sends it: the webhook channel's message (the contract's body, plus where to). */
export type OutgoingMessage = WebhookMessage;

export type SkipReason = 'muted' | 'frequency_cap';

/** What dispatch needs of the channel and of the record of sends; the webhook channel provides it. */
export interface Deliveries {
  /**
   * How an earlier try of this message ended, or null when none did: a retried dispatch honours it instead of
   * deciding again (a message it sent must not count against the user's frequency cap, nor be skipped now).
   */
  recorded(messageId: string): Promise<'sent' | 'failed' | 'skipped' | null>;
  /** Sends once per messageId: `already_sent` when an earlier try delivered it; failures are recorded by the channel. */
  send(message: OutgoingMessage): Promise<'sent' | 'already_sent' | 'failed'>;
  /** Records a message that was not sent on purpose (counted as skipped). */
  skip(message: OutgoingMessage, reason: SkipReason): Promise<void>;
  /** When the user's messages were sent since `sinceMs` (epoch ms), for the frequency cap. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
}
