import { z } from 'zod';
import { WebhookSink, type SinkReply, type SinkRequest } from '@journey/embedded/testing';

/**
 * What the sink did with one request. `ok` answered 2xx: the message counts as delivered to the receiver. `down`: it
 * answered 503 because the receiver was down (an outage, not the dice).
 */
export type SinkVerdict = 'ok' | 'error' | 'hang' | 'down';

export interface SinkCall {
  /** When the sink received it (epoch ms of the test process). */
  at: number;
  /** The Idempotency-Key header. */
  key: string;
  messageId: string;
  userId: string;
  stepId: string;
  verdict: SinkVerdict;
  /** The connection it came on (see WebhookSink). */
  connection: number;
}

export interface FaultSinkOptions {
  random: () => number;
  /** Share of requests answered 500. */
  errorRate: number;
  /** Share of requests held open without an answer, until the engine's attempt timeout gives up on them. */
  hangRate: number;
  /**
   * Faults (500 or hang) per Idempotency-Key at most; later tries of the key get 2xx. Lower than the channel's
   * attempts per send, so no message runs out of retries: the test's outcome never depends on the dice.
   */
  maxFaultsPerKey: number;
}

/** The contract's webhook body, as far as the sink reads it. */
const BodySchema = z.object({ messageId: z.string(), userId: z.string(), stepId: z.string() });

/**
 * A webhook receiver that misbehaves on purpose: answers some requests 500, holds some open (a hang longer than
 * the engine's attempt timeout), and 200 otherwise; and records every request with what it did.
 */
export class FaultSink {
  readonly calls: SinkCall[] = [];
  /** Requests whose Idempotency-Key differs from the body's messageId, or whose body is not the contract's. */
  readonly malformed: SinkRequest[] = [];
  private readonly faults = new Map<string, number>();
  private readonly sink: WebhookSink;
  private isDown = false;

  constructor(private readonly options: FaultSinkOptions) {
    this.sink = new WebhookSink((request) => this.reply(request));
  }

  async listen(): Promise<this> {
    await this.sink.listen();
    return this;
  }

  get url(): string {
    return this.sink.url;
  }

  /** Requests held open right now. */
  get inFlight(): number {
    return this.sink.inFlight;
  }

  /** When each connection closed (epoch ms), by number. */
  get connectionClosedAt(): ReadonlyMap<number, number> {
    return this.sink.connectionClosedAt;
  }

  /** The receiver is down: every request is answered 503 until `up()`. */
  down(): void {
    this.isDown = true;
  }

  up(): void {
    this.isDown = false;
  }

  async close(): Promise<void> {
    await this.sink.close();
  }

  private reply(request: SinkRequest): SinkReply {
    const key = request.headers['idempotency-key'];
    let body: z.infer<typeof BodySchema>;
    try {
      body = BodySchema.parse(JSON.parse(request.body));
    } catch {
      this.malformed.push(request);
      return { status: 400 };
    }
    if (typeof key !== 'string' || key !== body.messageId) {
      this.malformed.push(request);
      return { status: 400 };
    }

    const { random, errorRate, hangRate, maxFaultsPerKey } = this.options;
    const draw = random();
    const faults = this.faults.get(key) ?? 0;
    let verdict: SinkVerdict = 'ok';
    if (this.isDown) verdict = 'down';
    else if (faults < maxFaultsPerKey && draw < errorRate) verdict = 'error';
    else if (faults < maxFaultsPerKey && draw < errorRate + hangRate) verdict = 'hang';
    if (verdict === 'error' || verdict === 'hang') this.faults.set(key, faults + 1);
    this.calls.push({
      at: Date.now(),
      key,
      messageId: body.messageId,
      userId: body.userId,
      stepId: body.stepId,
      verdict,
      connection: request.connection,
    });

    if (verdict === 'down') return { status: 503, body: 'receiver down' };
    if (verdict === 'error') return { status: 500, body: 'injected failure' };
    if (verdict === 'hang') return 'hold';
    return { status: 200 };
  }
}

export interface DeliveryReport {
  requests: number;
  errors: number;
  hangs: number;
  /** Answered 503 while the receiver was down. */
  downs: number;
  /** 2xx answers, raw (a de-duplicating receiver sees fewer). */
  okRaw: number;
  /** Distinct Idempotency-Keys answered 2xx per user and step: what a de-duplicating receiver delivered. */
  delivered: Map<string, Map<string, Set<string>>>;
  /** 2xx answers to a key that had been answered 2xx before: at-least-once redeliveries. */
  redeliveries: SinkCall[];
}

/** Reduces the sink's calls to what a receiver that de-duplicates by Idempotency-Key saw. */
export function reportDeliveries(calls: readonly SinkCall[]): DeliveryReport {
  const delivered = new Map<string, Map<string, Set<string>>>();
  const seenOk = new Set<string>();
  const redeliveries: SinkCall[] = [];
  let errors = 0;
  let hangs = 0;
  let downs = 0;
  let okRaw = 0;
  for (const call of calls) {
    if (call.verdict === 'error') errors++;
    if (call.verdict === 'hang') hangs++;
    if (call.verdict === 'down') downs++;
    if (call.verdict !== 'ok') continue;
    okRaw++;
    if (seenOk.has(call.key)) redeliveries.push(call);
    seenOk.add(call.key);
    const steps = delivered.get(call.userId) ?? new Map<string, Set<string>>();
    delivered.set(call.userId, steps);
    const keys = steps.get(call.stepId) ?? new Set<string>();
    steps.set(call.stepId, keys);
    keys.add(call.key);
  }
  return { requests: calls.length, errors, hangs, downs, okRaw, delivered, redeliveries };
}
