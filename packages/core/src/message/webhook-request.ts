import { createHmac } from 'node:crypto';
import type { MessageToSend } from '../engine/settle.js';
import type { EpochMs } from '../time/epoch.js';

/** One HTTP request of a message, exactly as the webhook channel sends it. */
export interface WebhookRequest {
  method: MessageToSend['method'];
  url: string;
  headers: Record<string, string>;
  body: string;
}

export const SIGNATURE_HEADER = 'Journey-Signature';
/** Marks a test send (POST /v1/journeys/:id/steps/:stepId/test): receivers may drop it or route it apart. */
export const TEST_HEADER = 'Journey-Test';
const USER_AGENT = 'journey-engine';

/**
 * The request of one attempt of `message` at `at` (epoch ms): the contract's body, the step's own headers, then the
 * engine's (`Content-Type`, `Idempotency-Key`: the message id), signed when the step has a secret. The channel sends
 * this; a simulation shows it.
 */
export function webhookRequest(message: MessageToSend, at: EpochMs, options: { test?: boolean } = {}): WebhookRequest {
  const body = JSON.stringify({
    messageId: message.messageId,
    journeyId: message.journeyId,
    version: message.version,
    stepId: message.stepId,
    branchId: message.branchId,
    userId: message.userId,
    entryId: message.entryId,
    payload: message.payload,
  });
  const headers: Record<string, string> = {
    'User-Agent': USER_AGENT,
    ...message.headers,
    'Content-Type': 'application/json',
    'Idempotency-Key': message.messageId,
  };
  if (options.test) headers[TEST_HEADER] = 'true';
  if (message.secret !== null) headers[SIGNATURE_HEADER] = signature(message.secret, Math.floor(at / 1000), body);
  return { method: message.method, url: message.url, headers, body };
}

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`: the receiver recomputes it over the raw body and the
 * `t` it was sent with, and refuses a stale `t` (a replay). Each attempt is signed at its own time.
 */
export function signature(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}
