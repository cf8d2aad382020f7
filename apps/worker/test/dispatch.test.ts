import { messageId, stepToken, type JourneyDefinitionInput } from '@journey/core';
import { afterEach, describe, expect, it } from 'vitest';
import { dispatchHarness, exampleSendingTo } from './dispatch-harness.js';

const noon = Date.parse('2026-11-23T12:00:00Z');
let harness: Awaited<ReturnType<typeof dispatchHarness>> | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('dispatch of the contract example journey', () => {
  it('walks a free-plan user from the welcome message to the action paths wait, one send per message step', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    const entryId = await h.enter(journeyId, 'ada', { firstName: 'Ada', plan: 'free' });

    await h.settle();
    expect(h.bodies().map((b) => [b.stepId, b.userId, b.payload.text])).toEqual([['welcome', 'ada', 'Hi Ada']]);
    const [request] = h.sink.requests;
    expect(request?.headers['idempotency-key']).toBe(h.bodies()[0]?.messageId);
    // The delay step ran at once too: the user now waits to enter the split, five seconds later.
    expect(await h.states.get(journeyId, 'ada')).toMatchObject({ status: 'active', stepId: 'split', token: stepToken(2), entryId });

    // Nothing before the delay's second; then the split (free plan: else) reaches the action paths wait.
    h.advance(4_000);
    await h.settle();
    expect(await h.states.get(journeyId, 'ada')).toMatchObject({ stepId: 'split' });
    h.advance(1_000);
    await h.settle();
    const waiting = await h.states.get(journeyId, 'ada');
    expect(waiting).toMatchObject({ stepId: 'act', awaiting: { stepId: 'act', token: stepToken(2) } });
    expect(h.sink.requests).toHaveLength(1);
    // A live entry keeps its lock: the racing paths of the wait take it over from this token.
    expect(await h.branchLock.current({ journeyId, userId: 'ada', entryId })).toBe(stepToken(2));

    // No purchase within the window: the timeout path runs the experiment.
    h.advance(60 * 60 * 1000);
    await h.settle();
    const final = await h.states.get(journeyId, 'ada');
    const texts = h.bodies().map((b) => b.payload.text);
    expect(texts[0]).toBe('Hi Ada');
    expect(texts.slice(1).every((text) => text === 'Offer A' || text === 'Offer B')).toBe(true);
    expect(['completed', 'exited']).toContain(final?.status);

    const stats = await h.stats.read(journeyId, 1);
    expect(stats.steps['welcome']?.counters.sent).toBe(1);
    expect(stats.steps['split']?.branches['else']?.entered).toBe(1);
    expect(stats.steps['act']?.branches['timeout']?.entered).toBe(1);
  });

  it('takes the VIP branch for a pro user and never sends a message of another branch', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'pro-user', { firstName: 'Bo', plan: 'pro' });
    await h.settle();
    h.advance(5_000);
    await h.settle();
    expect(h.bodies().map((b) => b.payload.text)).toEqual(['Hi Bo', 'VIP']);
    const completed = await h.states.get(journeyId, 'pro-user');
    expect(completed).toMatchObject({ status: 'completed', stepId: null });
    // A send after a branch counts on the message step as a whole, and on the branch at the split that took it.
    const stats = await h.stats.read(journeyId, 1);
    expect(stats.steps['vipMsg']).toMatchObject({ counters: { sent: 1 }, branches: {} });
    expect(stats.steps['split']?.branches['vip']).toMatchObject({ entered: 1, sent: 1 });
    // The operators' rates saw the three items (welcome; the delay, due right after the send; split -> vipMsg) and
    // the two sends, not doubled by the branch's count.
    const window = await h.activity.window({ nowMs: h.now() + 60_000, seconds: 120 });
    expect(window.totals).toEqual({ dispatched: 3, sent: 2, failed: 0, skipped: 0 });

    // An ended entry's lock is released once its end is committed; a late duplicate of its first item finds the end.
    expect(await h.branchLock.current({ journeyId, userId: 'pro-user', entryId: completed!.entryId })).toBeNull();
    await h.dueSchedule.schedule({ journeyId, version: 1, stepId: 'welcome' }, Math.floor(h.now() / 1000), [
      { userId: 'pro-user', entryId: completed!.entryId, expectedToken: '', ownToken: stepToken(0) },
    ]);
    await h.settle();
    expect(h.sink.requests).toHaveLength(2);
    expect(await h.branchLock.current({ journeyId, userId: 'pro-user', entryId: completed!.entryId })).toBeNull();
    expect((await h.stats.read(journeyId, 1)).steps['welcome']?.counters).toMatchObject({ entered: 1, sent: 1 });
  });

  it('lets exactly one of a purchase and the timeout take the action paths step when both are due together', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'racer', { firstName: 'Cy', plan: 'free' });
    await h.settle();
    h.advance(5_000);
    await h.settle();
    const waiting = await h.states.get(journeyId, 'racer');
    expect(waiting?.awaiting?.token).toBe(stepToken(2));

    // The purchase path item, scheduled as the ingest worker does, due at the same second as the timeout.
    h.advance(60 * 60 * 1000);
    await h.dueSchedule.schedule({ journeyId, version: 1, stepId: 'act' }, Math.floor(h.now() / 1000), [
      { userId: 'racer', entryId: waiting!.entryId, expectedToken: stepToken(2), ownToken: stepToken(3, 'bought') },
    ]);
    await h.settle();
    const texts = h
      .bodies()
      .map((b) => b.payload.text)
      .slice(1);
    const tookPurchase = texts.some((text) => text.startsWith('Thanks'));
    const tookTimeout = texts.some((text) => text.startsWith('Offer'));
    expect(tookPurchase && tookTimeout).toBe(false);
    const act = (await h.stats.read(journeyId, 1)).steps['act'];
    expect((act?.branches['bought']?.entered ?? 0) + (act?.branches['timeout']?.entered ?? 0)).toBe(1);
  });

  it('skips a muted message type, counts it, and goes on', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.users.updateMuted('muted-user', { muted: ['onboarding'] }, new Date(h.now()));
    await h.enter(journeyId, 'muted-user', { plan: 'pro' });
    await h.settle();
    h.advance(5_000);
    await h.settle();
    expect(h.sink.requests).toHaveLength(0);
    const stats = await h.stats.read(journeyId, 1);
    expect(stats.steps['welcome']?.counters.skipped).toBe(1);
    expect(stats.steps['vipMsg']?.counters.skipped).toBe(1);
    expect(await h.states.get(journeyId, 'muted-user')).toMatchObject({ status: 'completed' });
  });

  it('moves a send inside quiet hours to the end of the window', async () => {
    const late = Date.parse('2026-11-23T23:30:00Z');
    harness = await dispatchHarness({ start: late });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'night-owl', { firstName: 'Di' });
    await h.settle();
    expect(h.sink.requests).toHaveLength(0);
    h.advance(Date.parse('2026-11-24T08:00:00Z') - late);
    await h.settle();
    expect(h.bodies().map((b) => b.payload.text)).toEqual(['Hi Di']);
  });

  it('sends nothing while the journey is paused and continues once resumed', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.journeys.pause(journeyId);
    await h.enter(journeyId, 'patient', { firstName: 'Ed' });
    await h.settle();
    expect(h.sink.requests).toHaveLength(0);
    await h.journeys.resume(journeyId);
    h.advance(5_000);
    await h.settle();
    expect(h.bodies().map((b) => b.payload.text)).toEqual(['Hi Ed']);
  });

  it('sends once when the same member is dispatched again after a crash', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    const entryId = await h.enter(journeyId, 'twice', { firstName: 'Flo' });
    await h.settle();
    // The same first-step member again, as a retried batch would present it: the lock holds its token (resume).
    await h.dueSchedule.schedule({ journeyId, version: 1, stepId: 'welcome' }, Math.floor(h.now() / 1000), [
      { userId: 'twice', entryId, expectedToken: '', ownToken: stepToken(0) },
    ]);
    await h.settle();
    expect(h.bodies().map((b) => b.payload.text)).toEqual(['Hi Flo']);
    // The retry found the message in the state: not sent, not counted again.
    expect((await h.stats.read(journeyId, 1)).steps.welcome?.counters.sent).toBe(1);
  });

  it('keeps how the message ended in the state, written by the same commit that moves the user on', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    await h.enter(journeyId, 'kept', { firstName: 'Gus' });
    await h.settle();
    expect(await h.states.get(journeyId, 'kept')).toMatchObject({
      status: 'active',
      stepId: 'split',
      token: stepToken(2),
      messages: { welcome: { status: 'sent', reason: null, attempts: 1, completedAt: new Date(noon) } },
    });
    const { steps } = await h.stats.read(journeyId, 1);
    expect(steps.welcome?.counters).toMatchObject({ entered: 1, sent: 1 });
  });

  it('caps the messages of a user across journeys by the sends of the trailing window', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const capped = (journey: JourneyDefinitionInput) => {
      journey.settings = { ...journey.settings, frequencyCap: { messages: 1, per: 'PT1H' } };
    };
    const first = await h.publish(exampleSendingTo(`${h.sink.url}/hook`, capped));
    const second = await h.publish(exampleSendingTo(`${h.sink.url}/hook`, capped));
    await h.enter(first, 'busy', { firstName: 'Ida' });
    await h.settle();
    await h.enter(second, 'busy', { firstName: 'Ida' });
    await h.settle();
    expect(h.bodies().map((body) => body.messageId)).toHaveLength(1);
    expect(await h.states.get(second, 'busy')).toMatchObject({
      stepId: 'split',
      messages: { welcome: { status: 'skipped', reason: 'frequency_cap', attempts: 0 } },
    });
    expect((await h.stats.read(second, 1)).steps.welcome?.counters).toMatchObject({ sent: 0, skipped: 1 });

    // An hour later the first send no longer counts.
    h.advance(60 * 60 * 1000);
    const third = await h.publish(exampleSendingTo(`${h.sink.url}/hook`, capped));
    await h.enter(third, 'busy', { firstName: 'Ida' });
    await h.settle();
    expect(h.bodies().filter((body) => body.stepId === 'welcome')).toHaveLength(2);
  });

  it('keeps every send of a batch in the state of its user, with its attempts, before the users move on', async () => {
    harness = await dispatchHarness({ start: noon });
    const h = harness;
    const journeyId = await h.publish(exampleSendingTo(`${h.sink.url}/hook`));
    const users = Array.from({ length: 120 }, (_, index) => `batch${index}`);
    const entries = await Promise.all(users.map((userId) => h.enter(journeyId, userId, { firstName: userId })));
    await h.settle();

    expect(h.sink.requests).toHaveLength(users.length);
    expect(new Set(h.bodies().map((body) => body.messageId))).toEqual(
      new Set(users.map((userId, index) => messageId(journeyId, userId, entries[index]!, 'welcome'))),
    );
    const states = await h.states.listForJourney(journeyId, users);
    expect(states).toHaveLength(users.length);
    expect(states.filter((state) => state.messages.welcome?.status !== 'sent' || state.messages.welcome.attempts !== 1)).toEqual([]);
    expect((await h.stats.read(journeyId, 1)).steps.welcome?.counters.sent).toBe(users.length);
  });
});
