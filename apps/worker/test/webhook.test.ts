import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, uniqueName } from '@journey/embedded/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookChannel, parseRetryAfter, WebhookChannelClosedError, type WebhookChannel, type WebhookChannelOptions, type WebhookMessage, type WebhookSendResult } from '../src/channels/webhook.js';
import { WebhookSink } from './webhook-sink.js';

// Every test's channels and sinks are closed after it, whatever it asserted.
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function sink(reply?: ConstructorParameters<typeof WebhookSink>[0]): Promise<WebhookSink> {
  const started = await new WebhookSink(reply).listen();
  cleanups.push(() => started.close());
  return started;
}

/**
 * A clock that real time moves, and that the injected `sleep` moves forward at once: backoff costs no real waiting,
 * while attempt durations and the `maxTotalMs` budget still see real time.
 */
function fakeTime() {
  let offset = 0;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => Date.now() + offset,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      offset += ms;
    },
  };
}

function channel(options: Partial<WebhookChannelOptions> = {}) {
  const time = fakeTime();
  const created = createWebhookChannel({ now: time.now, sleep: time.sleep, ...options });
  cleanups.push(() => created.close());
  return { channel: created, sleeps: time.sleeps };
}

let counter = 0;
function message(url: string, over: Partial<WebhookMessage> = {}): WebhookMessage {
  counter += 1;
  return {
    messageId: uniqueName(`msg${counter}`),
    journeyId: 'j1',
    version: 3,
    stepId: 'welcome',
    branchId: '2',
    userId: `u${counter}`,
    entryId: 'e1',
    messageType: 'onboarding',
    url,
    payload: { text: 'Hi Ada', n: 1, nested: { ok: true } },
    ...over,
  };
}

const keysOf = (target: WebhookSink) => target.requests.map((request) => request.headers['idempotency-key']);
/** A result's status, reason and attempt count, for the tests that check only those. */
const summary = (result: WebhookSendResult) => ({ status: result.status, attempts: result.attempts.length, ...('reason' in result ? { reason: result.reason } : {}) });

describe('webhook channel', () => {
  it('posts the contract body and headers once, and returns the attempt for the record', async () => {
    const target = await sink();
    const { channel: webhook } = channel();
    const m = message(target.url);
    const before = Date.now();

    const result = await webhook.send(m);
    expect(summary(result)).toEqual({ status: 'sent', attempts: 1 });

    expect(target.requests).toHaveLength(1);
    const [request] = target.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hook');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(m.messageId);
    expect(request?.headers['user-agent']).toBe('journey-engine');
    expect(target.bodies()).toEqual([
      { messageId: m.messageId, journeyId: 'j1', version: 3, stepId: 'welcome', branchId: '2', userId: m.userId, entryId: 'e1', payload: m.payload },
    ]);

    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'ok', status: 200 })]);
    expect(result.startedAt.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('retries 5xx with backoff and the same Idempotency-Key until it is accepted', async () => {
    const target = await sink((_, index) => (index < 2 ? { status: 500, body: 'database on fire' } : { status: 204 }));
    const { channel: webhook, sleeps } = channel();
    const m = message(target.url);

    const result = await webhook.send(m);
    expect(summary(result)).toEqual({ status: 'sent', attempts: 3 });

    expect(keysOf(target)).toEqual([m.messageId, m.messageId, m.messageId]);
    // Exponential from baseDelayMs 200 with equal jitter: [100, 200], then [200, 400].
    expect(sleeps).toHaveLength(2);
    expect(sleeps[0]).toBeGreaterThanOrEqual(100);
    expect(sleeps[0]).toBeLessThanOrEqual(200);
    expect(sleeps[1]).toBeGreaterThanOrEqual(200);
    expect(sleeps[1]).toBeLessThanOrEqual(400);
    expect(result.attempts.map((a) => [a.outcome, a.status, a.error])).toEqual([
      ['http_error', 500, 'database on fire'],
      ['http_error', 500, 'database on fire'],
      ['ok', 204, undefined],
    ]);
  });

  it('fails for good on a 4xx after one attempt', async () => {
    const target = await sink(() => ({ status: 400, body: '{"error":"bad payload"}' }));
    const { channel: webhook, sleeps } = channel();
    const m = message(target.url);

    const result = await webhook.send(m);
    expect(summary(result)).toEqual({ status: 'failed', attempts: 1, reason: 'http_4xx' });

    expect(target.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(result.attempts).toEqual([expect.objectContaining({ outcome: 'http_error', status: 400, error: '{"error":"bad payload"}' })]);
  });

  it('retries 408 and 429, honouring Retry-After up to maxDelayMs', async () => {
    const replies = [
      { status: 429, headers: { 'retry-after': '3' } },
      { status: 503, headers: { 'retry-after': '120' } },
      { status: 408 },
      { status: 200 },
    ];
    const target = await sink((_, index) => replies[index] ?? { status: 200 });
    const { channel: webhook, sleeps } = channel({ random: () => 0 });
    const m = message(target.url);

    expect(summary(await webhook.send(m))).toEqual({ status: 'sent', attempts: 4 });

    // 3 s as asked; 120 s clamped to maxDelayMs; 408 has no Retry-After, so the backoff's third step (800 ms, jitter 0 -> 400).
    expect(sleeps).toEqual([3_000, 10_000, 400]);
    expect(keysOf(target)).toEqual([m.messageId, m.messageId, m.messageId, m.messageId]);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-11-22T10:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now)).toBe(5_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 09:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('aborts an attempt that gets no answer in attemptTimeoutMs, then retries', async () => {
    const target = await sink((_, index) => (index === 0 ? 'hold' : { status: 200 }));
    const { channel: webhook } = channel({ attemptTimeoutMs: 200 });
    const m = message(target.url);

    const { attempts, ...result } = await webhook.send(m);
    expect(result.status).toBe('sent');

    expect(keysOf(target)).toEqual([m.messageId, m.messageId]);
    expect(attempts.map((a) => a.outcome)).toEqual(['timeout', 'ok']);
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(190);
    expect(attempts[0]?.status).toBeUndefined();
    // The aborted request's connection was closed, so the sink is not left holding it.
    await eventually(() => target.inFlight === 0, { what: 'the timed-out request to be closed' });
  });

  it('gives up after maxAttempts with retries_exhausted, keeping every attempt', async () => {
    const target = await sink(() => ({ status: 503 }));
    const { channel: webhook, sleeps } = channel({ maxAttempts: 3 });
    const m = message(target.url);

    const result = await webhook.send(m);
    expect(summary(result)).toEqual({ status: 'failed', attempts: 3, reason: 'retries_exhausted' });

    expect(target.requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(result.attempts.map((a) => a.status)).toEqual([503, 503, 503]);
  });

  it('gives up when the next retry could not finish within maxTotalMs', async () => {
    const target = await sink(() => ({ status: 500 }));
    const { channel: webhook, sleeps } = channel({ maxAttempts: 10, baseDelayMs: 1_000, maxDelayMs: 60_000, attemptTimeoutMs: 1_000, maxTotalMs: 5_000, random: () => 0 });
    const m = message(target.url);

    // Waits of 500, 1000, 2000 ms leave room for a retry and its timeout; after 3.5 s, 4 s more does not fit in 5 s.
    expect(summary(await webhook.send(m))).toEqual({ status: 'failed', attempts: 4, reason: 'retries_exhausted' });
    expect(sleeps).toEqual([500, 1_000, 2_000]);
  });

  it('retries a refused connection as a network error', async () => {
    // A port that was just free: nothing listens there until the first backoff starts the sink on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));

    const target = new WebhookSink();
    cleanups.push(() => target.close());
    const time = fakeTime();
    const webhook = createWebhookChannel({
      now: time.now,
      sleep: async (ms) => {
        await time.sleep(ms);
        if (time.sleeps.length === 1) await target.listen(port);
      },
    });
    cleanups.push(() => webhook.close());
    const m = message(`http://127.0.0.1:${port}/hook`);

    const { attempts, ...result } = await webhook.send(m);
    expect(result.status).toBe('sent');

    expect(target.requests).toHaveLength(1);
    expect(attempts.map((a) => a.outcome)).toEqual(['network_error', 'ok']);
    expect(attempts[0]?.error).toContain('ECONNREFUSED');
  });

  it('fails a message whose URL is not http(s) without trying it', async () => {
    const { channel: webhook } = channel();
    const m = message('ftp://127.0.0.1/hook');
    expect(summary(await webhook.send(m))).toEqual({ status: 'failed', attempts: 0, reason: 'invalid_url' });
  });

  it('keeps at most maxConnectionsPerOrigin requests in flight per origin, and other origins unaffected', async () => {
    const slow = await sink(() => 'hold');
    const fast = await sink();
    const { channel: webhook } = channel({ maxConnectionsPerOrigin: 5 });

    const messages = Array.from({ length: 50 }, () => message(slow.url));
    const results = Promise.all(messages.map((m) => webhook.send(m)));

    await eventually(() => slow.heldCount === 5, { what: 'the slow origin to hold 5 requests' });
    // The slow origin has every one of its slots, yet a send to another origin goes through at once.
    expect(summary(await webhook.send(message(fast.url)))).toEqual({ status: 'sent', attempts: 1 });

    // Answer the slow origin 5 at a time; each wave is let in only as the previous one is answered.
    let answered = 0;
    while (answered < 50) {
      await eventually(() => slow.heldCount === Math.min(5, 50 - answered), { what: `wave after ${answered} answers` });
      answered += slow.releaseHeld({ status: 200 });
    }

    expect((await results).every((result) => result.status === 'sent' && result.attempts.length === 1)).toBe(true);
    expect(slow.requests).toHaveLength(50);
    expect(slow.maxInFlight).toBe(5);
    expect(new Set(keysOf(slow))).toEqual(new Set(messages.map((m) => m.messageId)));
  });

  it('starts an attempt timeout only when the request gets a connection, not while it waits for one', async () => {
    // 60 sends through 5 connections to a receiver that takes 100 ms each: the last ones wait about 1.1 s for a
    // connection, longer than their 1 s timeout, which must not count that wait.
    const target = await sink(() => ({ status: 200, afterMs: 100 }));
    const { channel: webhook } = channel({ maxConnectionsPerOrigin: 5, attemptTimeoutMs: 1_000 });

    const results = await Promise.all(Array.from({ length: 60 }, () => webhook.send(message(target.url))));

    expect(results.filter((result) => result.status !== 'sent' || result.attempts.length !== 1)).toEqual([]);
    expect(target.requests).toHaveLength(60);
    expect(target.maxInFlight).toBe(5);
  });

  it('refuses new sends once closed, and a send waiting to retry stops without an outcome', async () => {
    const target = await sink(() => ({ status: 500 }));
    let closeChannel: () => Promise<void> = async () => undefined;
    const webhook: WebhookChannel = createWebhookChannel({ sleep: () => closeChannel() });
    closeChannel = () => webhook.close();
    const m = message(target.url);

    await expect(webhook.send(m)).rejects.toBeInstanceOf(WebhookChannelClosedError);
    expect(target.requests).toHaveLength(1);
    await expect(webhook.send(message(target.url))).rejects.toBeInstanceOf(WebhookChannelClosedError);
  });
});
