import { createHash } from 'node:crypto';
import type { EpochMs } from '../time/epoch.js';

/** How a message whose receiver did not take it is tried again (the WEBHOOK_RETRY_* settings). */
export interface RetryPolicy {
  /** Attempts stop once this long has passed since the first one. */
  windowMs: number;
  /** The wait after the first failed attempt; each later wait doubles, up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface FailedAttempt {
  messageId: string;
  /** Attempts made so far, the failed one included. */
  attempts: number;
  firstAttemptAt: EpochMs;
  now: EpochMs;
  /** The receiver's `Retry-After`, in ms from now: honoured as the least wait. */
  retryAfterMs?: number | undefined;
}

/**
 * When the next attempt of a message is due (a whole second), or null when the retry window is spent (the message is
 * then `failed`).
 * Exponential backoff with "equal jitter" (at least half of each step, so retries spread without collapsing to
 * zero). The jitter derives from the message id and the attempt, so every try of the same decision agrees.
 */
export function nextAttemptAt(policy: RetryPolicy, failed: FailedAttempt): EpochMs | null {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(failed.attempts - 1, 40));
  const backoff = Math.round(step / 2 + jitter(failed.messageId, failed.attempts) * (step / 2));
  // Steps are due by the second: a wait is rounded up to a second boundary, so the retry never runs within the
  // second of the attempt it follows.
  const due = Math.ceil((failed.now + Math.max(backoff, failed.retryAfterMs ?? 0, 1)) / 1000) * 1000;
  return due <= failed.firstAttemptAt + policy.windowMs ? due : null;
}

/** A stable fraction in [0, 1) for (message, attempt). */
function jitter(messageId: string, attempt: number): number {
  return createHash('sha256').update(`${messageId}\u0000${attempt}`).digest().readUInt32BE(0) / 2 ** 32;
}
