import { webhookRequest, type MessageToSend, type SendReason } from '@journey/core';
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { OriginLimiter } from './origin-limiter.js';

/** One message of a `message` step, as the dispatcher hands it over (docs/product.md, "Webhook channel"). */
export type WebhookMessage = MessageToSend;

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

/**
 * What one attempt of a message came to; the caller records it (the channel writes nothing). `retry`: the receiver
 * did not take it this time (5xx, 408, 429, a timeout or a network error); `retryAfterMs` is its `Retry-After`.
 */
export type WebhookAttemptResult =
  /** Not sent: no connection to the origin was free by `startBy`. */
  { status: 'late' } | AttemptAnswer;

/** What an attempt that went out came to. */
export type AttemptAnswer = { attempt: SendAttempt } & (
  | { status: 'sent' }
  /** It will not be delivered: a 3xx or 4xx, or a URL that is not http(s). */
  | { status: 'failed'; reason: Exclude<SendReason, 'muted' | 'frequency_cap' | 'retries_exhausted'> }
  | { status: 'retry'; retryAfterMs?: number }
);

export interface WebhookChannel {
  /**
   * One HTTP attempt of the message. When to try again is the caller's decision (durable, not a wait in here). A
   * `test` attempt carries `Journey-Test: true`. With `startBy` (epoch ms), an attempt that cannot start by then (it
   * waited for a free connection to a busy origin) is not sent: `late`.
   */
  attempt(message: WebhookMessage, options?: { test?: boolean }): Promise<AttemptAnswer>;
  attempt(message: WebhookMessage, options: { test?: boolean; startBy?: number }): Promise<WebhookAttemptResult>;
  /** Lets in-flight requests finish and closes the connections; a later attempt throws `WebhookChannelClosedError`. */
  close(): Promise<void>;
}

const WebhookSettingsSchema = z.object({
  /** WEBHOOK_ATTEMPT_TIMEOUT_MS. */
  attemptTimeoutMs: z.number().positive(),
  maxConnectionsPerOrigin: z.number().int().min(1).default(20),
});

export type WebhookChannelOptions = z.input<typeof WebhookSettingsSchema> & {
  /** Epoch ms: attempt times and durations. */
  now?: () => number;
};

/** Thrown by an attempt made after the channel closed: nothing is recorded, and a later dispatch sends it. */
export class WebhookChannelClosedError extends Error {
  override readonly name = 'WebhookChannelClosedError';
  constructor(readonly messageId: string) {
    super(`webhook channel closed before message ${messageId} was delivered`);
  }
}

/** How much of an error response's body is kept on the attempt, for operators. */
const ERROR_BODY_CHARS = 300;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** What one attempt means for the message. */
type Verdict = { kind: 'sent' } | { kind: 'failed'; reason: 'http_3xx' | 'http_4xx' } | { kind: 'retry'; retryAfterMs?: number };

/**
 * The webhook channel: one attempt per call, bounded by `attemptTimeoutMs` (waiting for a free connection to a busy
 * origin comes on top). Retrying is the dispatcher's: a message the receiver did not take is scheduled again with
 * backoff, durably, so a long outage holds no batch and no worker slot, and survives a worker restart.
 */
export function createWebhookChannel(options: WebhookChannelOptions): WebhookChannel {
  const settings = WebhookSettingsSchema.parse(options);
  const now = options.now ?? Date.now;

  const agent = new Agent({ connections: settings.maxConnectionsPerOrigin });
  // undici queues requests beyond `connections` inside the agent, where the attempt timeout would run out before
  // the request left. Waiting for the slot here instead starts the timeout only once the request can go, and the
  // queue of one slow origin never holds sends to other origins.
  const limiter = new OriginLimiter(settings.maxConnectionsPerOrigin);
  let closed = false;

  async function attemptOnce(
    message: WebhookMessage,
    target: URL,
    options: { test?: boolean; startBy?: number },
  ): Promise<{ attempt: SendAttempt; verdict: Verdict } | 'late'> {
    const release = await limiter.acquire(target.origin);
    const at = now();
    if (options.startBy !== undefined && at > options.startBy) {
      release();
      return 'late';
    }
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, settings.attemptTimeoutMs);
    const finish = (fields: Omit<SendAttempt, 'at' | 'durationMs'>): SendAttempt => ({
      at: new Date(at),
      durationMs: Math.max(0, now() - at),
      ...fields,
    });
    try {
      // Built when the request can go: a signature is of the time it was sent.
      const { method, headers, body } = webhookRequest(message, at, { test: options.test ?? false });
      const response = await request(target, { dispatcher: agent, method, headers, body, signal: controller.signal });
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
    attempt: (async (message: WebhookMessage, options: { test?: boolean; startBy?: number } = {}): Promise<WebhookAttemptResult> => {
      if (closed) throw new WebhookChannelClosedError(message.messageId);
      const target = parseHttpUrl(message.url);
      if (!target) {
        const attempt: SendAttempt = { at: new Date(now()), durationMs: 0, outcome: 'network_error', error: 'not an http(s) URL' };
        return { status: 'failed', reason: 'invalid_url', attempt };
      }
      const answer = await attemptOnce(message, target, options);
      if (answer === 'late') return { status: 'late' };
      const { attempt, verdict } = answer;
      if (verdict.kind === 'sent') return { status: 'sent', attempt };
      if (verdict.kind === 'failed') return { status: 'failed', reason: verdict.reason, attempt };
      return verdict.retryAfterMs === undefined
        ? { status: 'retry', attempt }
        : { status: 'retry', retryAfterMs: verdict.retryAfterMs, attempt };
    }) as WebhookChannel['attempt'],

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
