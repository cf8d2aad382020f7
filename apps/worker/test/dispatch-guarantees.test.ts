import { messageId, type JourneyDefinitionInput } from '@journey/core';
import { eventually, TcpProxy, testServers } from '@journey/embedded/testing';
import { countJobs } from '@journey/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchHarness, exampleSendingTo } from './dispatch-harness.js';

const noon = Date.parse('2026-11-23T12:00:00Z');
const SECOND = 1_000;
let harness: Awaited<ReturnType<typeof dispatchHarness>> | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.restore();
  await harness?.close();
  await proxy?.close();
  harness = undefined;
  proxy = undefined;
});

/** One message step, then the end. */
function oneMessage(url: string): JourneyDefinitionInput {
  return {
    name: 'One message',
    entry: { trigger: { type: 'event', event: 'signed_up' } },
    start: 'hello',
    steps: {
      hello: { type: 'message', channel: 'webhook', messageType: 'news', webhook: { url }, payload: { text: 'Hello' }, next: null },
    },
    settings: { timezone: 'UTC' },
  };
}

/** Runs the harness's scheduler and workers, moving the clock a second at a time, until `done` holds. */
async function runUntil(
  h: NonNullable<typeof harness>,
  done: () => boolean | Promise<boolean>,
  options: { stepMs?: number; maxSteps?: number } = {},
): Promise<number> {
  for (let step = 0; step < (options.maxSteps ?? 200); step++) {
    await h.settle();
    if (await done()) return step;
    h.advance(options.stepMs ?? SECOND);
  }
  throw new Error('the condition was not met within the steps allowed');
}

describe('dispatch guarantees under faults', () => {
  /**
   * Dispatches one user whose receiver answers `status`; at that instant MongoDB becomes unreachable (a real
   * connection cut through a proxy), so the step's commit fails and the batch waits for its retry, which runs once
   * MongoDB is back.
   */
  async function answerThenLoseTheCommit(userId: string, answer: { status: number; body?: string }) {
    const { mongoUri } = testServers();
    proxy = await TcpProxy.forUrl(mongoUri);
    const cut = proxy;
    harness = await dispatchHarness({ start: noon, mongoUri: cut.rewrite(mongoUri) });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    const entryId = await h.enter(journeyId, userId);
    h.sink.reply = () => {
      void cut.cut();
      return answer;
    };
    await h.scheduler.tick();
    await eventually(async () => (await countJobs(h.dispatchQueue.queues, 'delayed')).delayed === 1, {
      what: 'the batch to fail and wait for its retry',
      timeoutMs: 15_000,
    });
    await cut.restore();
    await h.settle();
    return { h, journeyId, entryId };
  }

  it('records a delivered message whose commit failed instead of posting it again', async () => {
    const { h, journeyId, entryId } = await answerThenLoseTheCommit('ada', { status: 200 });
    expect(h.sink.requests).toHaveLength(1);
    const state = await h.states.get(journeyId, 'ada');
    expect(state).toMatchObject({ status: 'completed', messages: { hello: { status: 'sent', attempts: 1 } } });
    expect(h.bodies()[0]?.messageId).toBe(messageId(journeyId, 'ada', entryId, 'hello'));
    expect((await h.stats.read(journeyId, 1)).steps['hello']?.counters).toMatchObject({ entered: 1, sent: 1 });
  });

  it('records a refused message whose commit failed instead of posting it again', async () => {
    const { h, journeyId } = await answerThenLoseTheCommit('bo', { status: 422, body: 'unknown user' });
    expect(h.sink.requests).toHaveLength(1);
    expect(await h.states.get(journeyId, 'bo')).toMatchObject({
      status: 'completed',
      messages: { hello: { status: 'failed', reason: 'http_4xx' } },
    });
  });

  it('lets only one of two tries of the same item post, when they run at once', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    const entryId = await h.enter(journeyId, 'twin');
    // The same item twice, in two due sets: two batches, which the worker runs at once (a duplicate left behind by a
    // crash, or one batch run twice after a stall, looks the same to the lock).
    await h.dueSchedule.schedule({ journeyId, version: 1, stepId: 'hello' }, Math.floor(noon / 1000) - 1, [
      { userId: 'twin', entryId, expectedToken: '', ownToken: '0' },
    ]);
    h.sink.reply = () => 'hold';

    await h.scheduler.tick();
    await eventually(() => h.sink.heldCount === 1, { what: 'one try to post' });
    await eventually(async () => (await countJobs(h.dispatchQueue.queues, 'completed')).completed === 1, {
      what: 'the other try to leave the item to it',
    });
    h.sink.releaseHeld({ status: 200 });
    await h.settle();
    // The item the other try left looks again once the lease lapsed: the message ended, nothing is posted again.
    h.advance(60 * SECOND);
    await h.settle();

    expect(h.sink.requests).toHaveLength(1);
    expect(await h.states.get(journeyId, 'twin')).toMatchObject({
      status: 'completed',
      messages: { hello: { status: 'sent', attempts: 1 } },
    });
    expect((await h.stats.read(journeyId, 1)).steps['hello']?.counters).toMatchObject({ entered: 1, sent: 1 });
  });

  it('does not post a message whose try waited for a connection past its lease while another try took the item over', async () => {
    // One connection to the receiver, held by the first send: the other user's try waits for it, holding its lease.
    harness = await dispatchHarness({ start: noon, channel: { attemptTimeoutMs: 60_000, maxConnectionsPerOrigin: 1 } });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    const entries = new Map([
      ['ann', await h.enter(journeyId, 'ann')],
      ['ben', await h.enter(journeyId, 'ben')],
    ]);
    const userOf = (request: { body: string }) => (JSON.parse(request.body) as { userId: string }).userId;
    h.sink.reply = (_request, index) => (index === 0 ? 'hold' : { status: 200 });
    await h.scheduler.tick();
    await eventually(() => h.sink.heldCount === 1, { what: 'the first send to hold the only connection' });
    const waiting = userOf(h.sink.requests[0]!) === 'ann' ? 'ben' : 'ann';
    const leaseOf = async () => (await h.lockValue(journeyId, waiting, entries.get(waiting)!))?.split(' ')[2];
    await eventually(async () => (await leaseOf()) !== undefined, { what: 'the waiting try to hold the lease' });
    const firstTry = await leaseOf();

    // The waiting try's lease lapses on the engine's clock; another try of its item (a duplicate, or the batch run
    // again after a stall) takes the item over and waits for the connection too.
    h.advance(60 * SECOND);
    await h.dueSchedule.schedule({ journeyId, version: 1, stepId: 'hello' }, Math.floor(h.now() / 1000), [
      { userId: waiting, entryId: entries.get(waiting)!, expectedToken: '', ownToken: '0' },
    ]);
    await h.scheduler.tick();
    await eventually(async () => ![undefined, firstTry].includes(await leaseOf()), { what: 'the other try to take the item over' });
    h.sink.releaseHeld({ status: 200 });
    await h.settle();
    h.advance(60 * SECOND);
    await h.settle();

    expect(h.sink.requests.filter((request) => userOf(request) === waiting)).toHaveLength(1);
    expect(await h.states.get(journeyId, waiting)).toMatchObject({
      status: 'completed',
      messages: { hello: { status: 'sent', attempts: 1 } },
    });
  });

  it('keeps trying a receiver that is down for longer than a few attempts, durably, and delivers once it is back', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'cy');
    // Down for ten minutes of the engine's clock: far past the five quick attempts of old.
    const backAt = noon + 10 * 60 * SECOND;
    h.sink.reply = () => (h.now() < backAt ? { status: 503 } : { status: 200 });

    await h.settle();
    expect(h.sink.requests).toHaveLength(1);
    // Waiting for the next attempt holds no job: the message waits in the state and its item in a due set.
    const waiting = await h.states.get(journeyId, 'cy');
    expect(waiting).toMatchObject({
      status: 'active',
      stepId: 'hello',
      messages: { hello: { status: 'retrying', attempts: 1, lastError: 'HTTP 503' } },
    });
    expect(waiting?.messages['hello']?.nextAttemptAt?.getTime()).toBeGreaterThan(h.now());
    expect(await countJobs(h.dispatchQueue.queues, 'waiting', 'active', 'delayed')).toEqual({ waiting: 0, active: 0, delayed: 0 });

    // A worker restart while it waits changes nothing: the retry lives in the stores, not in a process.
    await h.restartWorker();
    await runUntil(h, async () => (await h.states.get(journeyId, 'cy'))?.status === 'completed', { stepMs: 30 * SECOND, maxSteps: 100 });

    const attempts = h.sink.requests.length;
    expect(attempts).toBeGreaterThan(5);
    // Backoff: over ten minutes, far fewer attempts than one per second.
    expect(attempts).toBeLessThan(20);
    expect(new Set(h.sink.requests.map((request) => request.headers['idempotency-key'])).size).toBe(1);
    const state = await h.states.get(journeyId, 'cy');
    expect(state).toMatchObject({ status: 'completed', messages: { hello: { status: 'sent', attempts } } });
    expect((await h.stats.read(journeyId, 1)).steps['hello']?.counters).toMatchObject({ entered: 1, sent: 1, failed: 0 });
  });

  it("waits at least the receiver's Retry-After before the next attempt", async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'di');
    h.sink.reply = (_request, index) => (index === 0 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 });

    await h.settle();
    h.advance(100 * SECOND);
    await h.settle();
    expect(h.sink.requests).toHaveLength(1);
    h.advance(21 * SECOND);
    await h.settle();
    expect(h.sink.requests).toHaveLength(2);
    expect(await h.states.get(journeyId, 'di')).toMatchObject({
      status: 'completed',
      messages: { hello: { status: 'sent', attempts: 2 } },
    });
  });

  it('gives up once the retry window has passed, and records why', async () => {
    harness = await dispatchHarness({ start: noon, retryPolicy: { windowMs: 60 * SECOND, baseDelayMs: SECOND, maxDelayMs: 10 * SECOND } });
    const h = harness;
    const journeyId = await h.publish(oneMessage(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'ed');
    h.sink.reply = () => ({ status: 500, body: 'down' });

    await runUntil(h, async () => (await h.states.get(journeyId, 'ed'))?.status === 'completed', { maxSteps: 120 });
    const state = await h.states.get(journeyId, 'ed');
    expect(state?.messages['hello']).toMatchObject({ status: 'failed', reason: 'retries_exhausted', lastError: 'HTTP 500: down' });
    expect(state?.messages['hello']?.attempts).toBe(h.sink.requests.length);
    // Every attempt fell within the window of the first.
    expect(h.now() - noon).toBeLessThanOrEqual(61 * SECOND);
    expect((await h.stats.read(journeyId, 1)).steps['hello']?.counters).toMatchObject({ entered: 1, sent: 0, failed: 1 });
  });
});

describe('dispatch: loops and counters', () => {
  it('sends a message step visited again in the same entry once per visit, each with an id of its own', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const url = `${h.sink.url}/hook`;
    const journeyId = await h.publish({
      name: 'Reminder loop',
      entry: { trigger: { type: 'event', event: 'signed_up' } },
      start: 'remind',
      steps: {
        remind: { type: 'message', channel: 'webhook', messageType: 'news', webhook: { url }, payload: { text: 'Reminder' }, next: 'wait' },
        wait: { type: 'delay', duration: 'PT1H', next: 'remind' },
      },
      settings: { timezone: 'UTC' },
    });
    const entryId = await h.enter(journeyId, 'fay');
    await h.settle();
    h.advance(60 * 60 * SECOND);
    await h.settle();
    h.advance(60 * 60 * SECOND);
    await h.settle();

    const ids = h.bodies().map((body) => body.messageId);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    expect(ids[0]).toBe(messageId(journeyId, 'fay', entryId, 'remind'));
    expect((await h.states.get(journeyId, 'fay'))?.messages['remind']).toMatchObject({ status: 'sent', visit: 3 });
    expect((await h.stats.read(journeyId, 1)).steps['remind']?.counters).toMatchObject({ entered: 3, sent: 3 });
    expect((await h.stats.read(journeyId, 1)).steps['wait']?.counters).toMatchObject({ entered: 3 });
  });

  it('counts every step the entries reached, delays and later message steps included', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'pro-1', { firstName: 'Gil', plan: 'pro' });
    await h.enter(journeyId, 'pro-2', { firstName: 'Hal', plan: 'pro' });
    await h.settle();
    h.advance(5 * SECOND);
    await h.settle();

    const { steps } = await h.stats.read(journeyId, 1);
    expect(steps['welcome']?.counters).toMatchObject({ entered: 2, sent: 2 });
    expect(steps['wait']?.counters).toMatchObject({ entered: 2 });
    expect(steps['split']?.counters).toMatchObject({ entered: 2 });
    expect(steps['split']?.branches['vip']).toMatchObject({ entered: 2, sent: 2 });
    expect(steps['vipMsg']?.counters).toMatchObject({ entered: 2, sent: 2 });
  });

  it('counts the entries an archive ends as exited at the step they were due at', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'ivy', { plan: 'pro' });
    await h.settle();
    expect((await h.journeys.archive(journeyId)).ok).toBe(true);
    h.advance(5 * SECOND);
    await h.settle();

    expect(h.sink.requests).toHaveLength(1);
    expect(await h.states.get(journeyId, 'ivy')).toMatchObject({ status: 'exited' });
    expect((await h.stats.read(journeyId, 1)).steps['split']?.counters).toMatchObject({ exited: 1 });
  });
});

describe('dispatch: one broken journey stays with itself', () => {
  it('a journey whose stored version does not read holds up only its own batches', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const url = `${h.sink.url}/hook`;
    const broken = await h.publish(oneMessage(url));
    const healthy = await h.publish(oneMessage(url));
    await h.enter(broken, 'jo');
    await h.enter(healthy, 'lu');
    // A stored version no rule lets in (a hand edit): it does not read.
    await h.mongo.db
      .collection('journey_versions')
      .updateOne({ _id: `${broken}:1` as never }, { $set: { 'definition.steps.hello.next': 42 } });

    await h.scheduler.tick();
    await eventually(async () => (await h.states.get(healthy, 'lu'))?.status === 'completed', { what: 'the healthy journey to go on' });
    expect(h.bodies().map((body) => body.userId)).toEqual(['lu']);
    // The broken journey's batch fails and is retried (visible to operators); its user waits, nothing is lost.
    await eventually(async () => (await countJobs(h.dispatchQueue.queues, 'delayed')).delayed === 1, {
      what: "the broken journey's batch to wait for a retry",
    });
    expect(await h.states.get(broken, 'jo')).toMatchObject({ status: 'active', stepId: 'hello' });
  });
});
