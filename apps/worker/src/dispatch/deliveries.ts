import type { SendReason } from '@journey/mongo';
import type { SendAttempt, WebhookMessage } from '@journey/webhook';

/** One message as the channel sends it: the webhook channel's message (the contract's body, plus where to). */
export type OutgoingMessage = WebhookMessage;

export type SkipReason = 'muted' | 'frequency_cap';

/**
 * What one attempt came to: `retry` when the receiver did not take it this time (`retryAfterMs`: its Retry-After);
 * `late` when it was not sent at all (it could not start by its `startBy`).
 */
export type AttemptOutcome =
  | { status: 'late' }
  | ({ attempt: SendAttempt } & (
      { status: 'sent' } | { status: 'failed'; reason: SendReason } | { status: 'retry'; retryAfterMs?: number }
    ));

/** What the receiver answered an earlier try of the message, as noted (null: nothing was noted). */
export type RecalledOutcome = { status: 'sent'; at: number } | { status: 'refused'; reason: string } | null;

/**
 * What dispatch needs of the channel and of the users' send history. Outcomes are not written here: the step's
 * commit keeps them in the entry's state (one MongoDB write per step).
 */
export interface Deliveries {
  /**
   * One attempt of the message. A delivered message is in the user's send history before this resolves, and a
   * refused one is noted too, so a retried step (its commit failed, or its process died after the answer) recalls
   * the answer instead of posting again, and a frequency cap never misses a send whose commit is still to come.
   */
  attempt(message: OutgoingMessage, options?: { startBy?: number }): Promise<AttemptOutcome>;
  /** What the receiver answered an earlier try of this message, if that was noted. */
  recall(userId: string, messageId: string): Promise<RecalledOutcome>;
  /** When the user's messages were sent since `sinceMs` (epoch ms), for the frequency cap. */
  sentSince(userId: string, sinceMs: number): Promise<number[]>;
}
