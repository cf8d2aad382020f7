import type { JsonObject } from '@journey/core';
import type { SendReason } from '@journey/mongo';
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { OriginLimiter } from './origin-limiter.js';

/** One message of a `message` step, as the dispatcher hands it over (docs/product.md, "Webhook channel"). */
export interface WebhookMessage {
  /** Deterministic for (journey, user, entry, step): the Idempotency-Key of every try. */
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  /** What a user may mute (by type); not part of the posted body. */
  messageType: string;
  url: string;
  payload: JsonObject;
}

/** One HTTP try of a message. */
export interface SendAttempt {
  at: Date;
  durationMs: number;
  outcome: 'ok' | 'http_error' | 'timeout' | 'network_error';
  /** The HTTP status, when a response came. */
  status?: number;
  /** What went wrong: the network error, or the start of an error response's body. */
  error?: string;
}

/** How a send ended; the caller records it (the channel writes nothing: the step's commit keeps the outcome). */
export type WebhookSendResult = { attempts: SendAttempt[]; startedAt: Date } & (
  | { status: 'sent' }
  /** It will not be delivered: a 3xx or 4xx, retries exhausted, or a URL that is not http(s). */
  | { status: 'failed'; reason: SendReason }
);

export interface WebhookChannel {
  send(message: WebhookMessage): Promise<WebhookSendResult>;
  /** Lets in-flight requests finish and closes the connections; a send waiting to retry then throws `WebhookChannelClosedError`. */
  close(): Promise<void>;
}

const WebhookSettingsSchema = z.object({
  maxAttempts: z.number().int().min(1).default(5),
  baseDelayMs: z.number().nonnegative().default(200),
  maxDelayMs: z.number().nonnegative().default(10_000),
  attemptTimeoutMs: z.number().positive().default(10_000),
  maxTotalMs: z.number().positive().default(60_000),
  maxConnectionsPerOrigin: z.number().int().min(1).default(20),
});

export type WebhookChannelOptions = z.input<typeof WebhookSettingsSchema> & {
  /** Waits between attempts; tests pass one that advances their clock instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
  /** Epoch ms: attempt times, durations and the `maxTotalMs` budget. */
  now?: () => number;
  /** In [0, 1): the backoff jitter. */
  random?: () => number;
};

/** Thrown by a send that was waiting to retry when the channel closed: nothing is recorded, and a later dispatch sends it again. */
export class WebhookChannelClosedError extends Error {
  override readonly name = 'WebhookChannelClosedError';
  constructor(readonly messageId: string) {
    super(`webhook channel closed before message ${messageId} was delivered`);
  }
}

const USER_AGENT = 'journey-engine';
/** How much of an error response's body is kept on the attempt, for operators. */
const ERROR_BODY_CHARS = 300;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** What one attempt means for the message. */
type Verdict = { kind: 'sent' } | { kind: 'failed'; reason: SendReason } | { kind: 'retry'; retryAfterMs?: number };

/**
 * The webhook channel. Retries live inside `send`: one dispatch carries a user's step from first try to outcome,
 * so a batch job never has to remember half-sent messages, and a transient 5xx costs seconds rather than a
 * re-scheduled job. `maxTotalMs` keeps a long outage from holding the batch: a retry is made only if it can run to
 * its timeout within the budget (waiting for a free connection to a busy origin comes on top); after that the
 * message ends `failed` / `retries_exhausted`, and the result carries every attempt for its record.
 */
export function createWebhookChannel(options: WebhookChannelOptions): WebhookChannel {
  const settings = WebhookSettingsSchema.parse(options);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;

  const agent = new Agent({ connections: settings.maxConnectionsPerOrigin });
  // undici queues requests beyond `connections` inside the agent, where the attempt timeout would run out before
  // the request left. Waiting for the slot here instead starts the timeout only once the request can go, and the
  // queue of one slow origin never holds sends to other origins.
  const limiter = new OriginLimiter(settings.maxConnectionsPerOrigin);
  let closed = false;

  /** Exponential, with "equal jitter": at least half the step, so retries spread out without collapsing to zero. */
  function backoffMs(attempt: number): number {
    const step = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + random() * (step / 2));
  }

  async function attemptOnce(target: URL, body: string, messageId: string): Promise<{ attempt: SendAttempt; verdict: Verdict }> {
    const release = await limiter.acquire(target.origin);
    const at = now();
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, settings.attemptTimeoutMs);
    const finish = (fields: Omit<SendAttempt, 'at' | 'durationMs'>): SendAttempt => ({ at: new Date(at), durationMs: Math.max(0, now() - at), ...fields });
    try {
      const response = await request(target, {
        dispatcher: agent,
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': messageId, 'User-Agent': USER_AGENT },
        body,
        signal: controller.signal,
      });
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        // Delivered once the status is in; a body cut short afterwards changes nothing.
        await response.body.dump().catch(() => undefined);
        return { attempt: finish({ outcome: 'ok', status }), verdict: { kind: 'sent' } };
      }
      const error = await readSnippet(response.body);
      const attempt = finish({ outcome: 'http_error', status, ...(error ? { error } : {}) });
      return { attempt, verdict: verdictFor(status, response.headers['retry-after'], now()) };
    } catch (error) {
      const outcome = timedOut || TIMEOUT_CODES.has(errorCode(error) ?? '') ? 'timeout' : 'network_error';
      const message = timedOut ? `no response within ${settings.attemptTimeoutMs} ms` : describeError(error);
      return { attempt: finish({ outcome, error: message }), verdict: { kind: 'retry' } };
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  return {
    async send(message) {
      if (closed) throw new WebhookChannelClosedError(message.messageId);
      const startedAt = new Date(now());
      const target = parseHttpUrl(message.url);
      if (!target) return { status: 'failed', reason: 'invalid_url', attempts: [], startedAt };
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
      const deadline = now() + settings.maxTotalMs;
      const attempts: SendAttempt[] = [];

      for (;;) {
        const { attempt, verdict } = await attemptOnce(target, body, message.messageId);
        attempts.push(attempt);
        if (verdict.kind === 'sent') return { status: 'sent', attempts, startedAt };
        if (verdict.kind === 'failed') return { status: 'failed', reason: verdict.reason, attempts, startedAt };
        const delay = verdict.retryAfterMs !== undefined ? Math.min(verdict.retryAfterMs, settings.maxDelayMs) : backoffMs(attempts.length);
        const outOfTime = now() + delay + settings.attemptTimeoutMs > deadline;
        if (attempts.length >= settings.maxAttempts || outOfTime) return { status: 'failed', reason: 'retries_exhausted', attempts, startedAt };
        await sleep(delay);
        if (closed) throw new WebhookChannelClosedError(message.messageId);
      }
    },

    async close() {
      closed = true;
      await agent.close();
    },
  };
}

/** 408 and 429 are not the request's fault, so they are retried like 5xx; any other non-2xx will not get better. */
function verdictFor(status: number, retryAfter: string | string[] | undefined, nowMs: number): Verdict {
  if (status === 408 || status === 429 || status >= 500) {
    const wait = status === 429 || status === 503 ? parseRetryAfter(retryAfter, nowMs) : undefined;
    return wait === undefined ? { kind: 'retry' } : { kind: 'retry', retryAfterMs: wait };
  }
  return { kind: 'failed', reason: status >= 400 ? 'http_4xx' : 'http_3xx' };
}

/** `Retry-After` is delay-seconds or an HTTP date (RFC 9110 10.2.3); anything else is ignored. */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

function parseHttpUrl(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

async function readSnippet(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  try {
    // Leaving the loop early destroys the stream: a huge error page is not read to its end.
    for await (const chunk of body) {
      text += Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk);
      if (text.length >= ERROR_BODY_CHARS) break;
    }
  } catch {
    // The status is what counts; a body that breaks off only shortens the note.
  }
  return text.slice(0, ERROR_BODY_CHARS);
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return errorCode((error as { cause?: unknown }).cause);
}

function describeError(error: unknown): string {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
