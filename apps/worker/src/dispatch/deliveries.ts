import type { MessageOutcome } from '@journey/mongo';
import type { WebhookMessage } from '../channels/webhook.js';

/** One message as the channel sends it: the webhook channel's message (the contract's body, plus where to). */
export type OutgoingMessage = WebhookMessage;

export type SkipReason = 'muted' | 'frequency_cap';

/**
 * What dispatch needs of the channel and of the user's send history. Outcomes are not written here: the step's
 * commit keeps them in the entry's state (one MongoDB write per step).
 */
export interface Deliveries {
  /**
   * Sends the message (retrying within the channel's budget) and returns how it ended. A sent message is in the
   * user's send history before this resolves, so a cap never misses a send whose commit is still to come.
   */
  send(message: OutgoingMessage): Promise<MessageOutcome>;
  /** The outcome of a message that is not sent on purpose (counted as skipped). */
  skip(message: OutgoingMessage, reason: SkipReason): MessageOutcome;
  /** When the user's messages were sent since `sinceMs` (epoch ms), for the frequency cap. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
}
