import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventually, uniqueName } from '@journey/embedded/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createWebhookChannel,
  parseRetryAfter,
  WebhookChannelClosedError,
  type WebhookChannel,
  type WebhookChannelOptions,
  type WebhookMessage,
  type AttemptAnswer,
} from '../src/index.js';
import { WebhookSink } from '@journey/embedded/testing';

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

function channel(options: Partial<WebhookChannelOptions> = {}) {
  const created = createWebhookChannel({ attemptTimeoutMs: 10_000, ...options });
  cleanups.push(() => created.close());
  return { channel: created };
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
    method: 'POST',
    url,
    headers: {},
    payload: { text: 'Hi Ada', n: 1, nested: { ok: true } },
    secret: null,
    ...over,
  };
}

const keysOf = (target: WebhookSink) => target.requests.map((request) => request.headers['idempotency-key']);
/** A result without its attempt's timing, for the tests that check only the verdict. */
const verdict = ({ attempt: _attempt, ...result }: AttemptAnswer) => result;

describe('webhook channel', () => {
  it('posts the contract body and headers once, and returns the attempt for the record', async () => {
    const target = await sink();
    const { channel: webhook } = channel();
    const m = message(target.url);
    const before = Date.now();

    const result = await webhook.attempt(m);
    expect(verdict(result)).toEqual({ status: 'sent' });

    expect(target.requests).toHaveLength(1);
    const [request] = target.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/hook');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['idempotency-key']).toBe(m.messageId);
    expect(request?.headers['user-agent']).toBe('journey-engine');
    expect(target.bodies()).toEqual([
      {
        messageId: m.messageId,
        journeyId: 'j1',
        version: 3,
        stepId: 'welcome',
        branchId: '2',
        userId: m.userId,
        entryId: 'e1',
        payload: m.payload,
      },
    ]);
    expect(result.attempt).toEqual(expect.objectContaining({ outcome: 'ok', status: 200 }));
    expect(result.attempt.at.getTime()).toBeGreaterThanOrEqual(before);
  });

  it('asks for a retry on a 5xx, keeping what the receiver said, and never waits in the channel', async () => {
    const target = await sink(() => ({ status: 500, body: 'database on fire' }));
    const { channel: webhook } = channel();
    const m = message(target.url);

    const result = await webhook.attempt(m);
    expect(verdict(result)).toEqual({ status: 'retry' });
    expect(result.attempt).toEqual(expect.objectContaining({ outcome: 'http_error', status: 500, error: 'database on fire' }));
    expect(target.requests).toHaveLength(1);
  });

  it('fails for good on a 4xx', async () => {
    const target = await sink(() => ({ status: 400, body: '{"error":"bad payload"}' }));
    const { channel: webhook } = channel();
    const result = await webhook.attempt(message(target.url));
    expect(verdict(result)).toEqual({ status: 'failed', reason: 'http_4xx' });
    expect(result.attempt).toEqual(expect.objectContaining({ outcome: 'http_error', status: 400, error: '{"error":"bad payload"}' }));
  });

  it('asks for a retry on 408, 429 and 503, passing on Retry-After', async () => {
    const replies = [{ status: 429, headers: { 'retry-after': '3' } }, { status: 503, headers: { 'retry-after': '120' } }, { status: 408 }];
    const target = await sink((_, index) => replies[index] ?? { status: 200 });
    const { channel: webhook } = channel();
    const m = message(target.url);

    expect(verdict(await webhook.attempt(m))).toEqual({ status: 'retry', retryAfterMs: 3_000 });
    expect(verdict(await webhook.attempt(m))).toEqual({ status: 'retry', retryAfterMs: 120_000 });
    expect(verdict(await webhook.attempt(m))).toEqual({ status: 'retry' });
    expect(keysOf(target)).toEqual([m.messageId, m.messageId, m.messageId]);
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

  it('aborts an attempt that gets no answer in attemptTimeoutMs', async () => {
    const target = await sink(() => 'hold');
    const { channel: webhook } = channel({ attemptTimeoutMs: 200 });
    const result = await webhook.attempt(message(target.url));
    expect(verdict(result)).toEqual({ status: 'retry' });
    expect(result.attempt.outcome).toBe('timeout');
    expect(result.attempt.durationMs).toBeGreaterThanOrEqual(190);
    expect(result.attempt.status).toBeUndefined();
    // The aborted request's connection was closed, so the sink is not left holding it.
    await eventually(() => target.inFlight === 0, { what: 'the timed-out request to be closed' });
  });

  it('asks for a retry on a refused connection (a network error)', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const { channel: webhook } = channel();

    const result = await webhook.attempt(message(`http://127.0.0.1:${port}/hook`));
    expect(verdict(result)).toEqual({ status: 'retry' });
    expect(result.attempt.outcome).toBe('network_error');
    expect(result.attempt.error).toContain('ECONNREFUSED');
  });

  it('fails a message whose URL is not http(s) without trying it', async () => {
    const { channel: webhook } = channel();
    expect(verdict(await webhook.attempt(message('ftp://127.0.0.1/hook')))).toEqual({ status: 'failed', reason: 'invalid_url' });
  });

  it('keeps at most maxConnectionsPerOrigin requests in flight per origin, and other origins unaffected', async () => {
    const slow = await sink(() => 'hold');
    const fast = await sink();
    const { channel: webhook } = channel({ maxConnectionsPerOrigin: 5 });

    const messages = Array.from({ length: 50 }, () => message(slow.url));
    const results = Promise.all(messages.map((m) => webhook.attempt(m)));

    await eventually(() => slow.heldCount === 5, { what: 'the slow origin to hold 5 requests' });
    // The slow origin has every one of its slots, yet a send to another origin goes through at once.
    expect(verdict(await webhook.attempt(message(fast.url)))).toEqual({ status: 'sent' });

    // Answer the slow origin 5 at a time; each wave is let in only as the previous one is answered.
    let answered = 0;
    while (answered < 50) {
      await eventually(() => slow.heldCount === Math.min(5, 50 - answered), { what: `wave after ${answered} answers` });
      answered += slow.releaseHeld({ status: 200 });
    }

    expect((await results).every((result) => result.status === 'sent')).toBe(true);
    expect(slow.requests).toHaveLength(50);
    expect(slow.maxInFlight).toBe(5);
    expect(new Set(keysOf(slow))).toEqual(new Set(messages.map((m) => m.messageId)));
  });

  it('sends nothing when no connection was free by startBy', async () => {
    const target = await sink(() => 'hold');
    let clock = 1_000_000;
    const { channel: webhook } = channel({ maxConnectionsPerOrigin: 1, now: () => clock });
    const first = webhook.attempt(message(target.url));
    await eventually(() => target.heldCount === 1, { what: 'the first request to hold the only connection' });
    const second = webhook.attempt(message(target.url), { startBy: clock + 5_000 });
    clock += 10_000;
    target.releaseHeld({ status: 200 });
    expect(await second).toEqual({ status: 'late' });
    expect((await first).status).toBe('sent');
    expect(target.requests).toHaveLength(1);
  });

  it('starts an attempt timeout only when the request gets a connection, not while it waits for one', async () => {
    // 60 sends through 5 connections to a receiver that takes 100 ms each: the last ones wait about 1.1 s for a
    // connection, longer than their 1 s timeout, which must not count that wait.
    const target = await sink(() => ({ status: 200, afterMs: 100 }));
    const { channel: webhook } = channel({ maxConnectionsPerOrigin: 5, attemptTimeoutMs: 1_000 });

    const results = await Promise.all(Array.from({ length: 60 }, () => webhook.attempt(message(target.url))));

    expect(results.filter((result) => result.status !== 'sent')).toEqual([]);
    expect(target.requests).toHaveLength(60);
    expect(target.maxInFlight).toBe(5);
  });

  it('refuses attempts once closed', async () => {
    const target = await sink();
    const webhook: WebhookChannel = createWebhookChannel({ attemptTimeoutMs: 10_000 });
    await webhook.close();
    await expect(webhook.attempt(message(target.url))).rejects.toBeInstanceOf(WebhookChannelClosedError);
    expect(target.requests).toHaveLength(0);
  });
});
