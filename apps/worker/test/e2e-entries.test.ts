import { eventually } from '@journey/embedded/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { e2eEnv, message, sendingTo, type E2eEnv } from './e2e-harness.js';

let env: E2eEnv;
beforeEach(async () => {
  env = await e2eEnv();
});
afterEach(async () => {
  await env?.close();
});

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** `visited` enters the user with this re-entry rule; one message, then the entry is complete. */
function visitJourney(url: string, reentry: Record<string, unknown>): Record<string, unknown> {
  return sendingTo(
    {
      name: 'Visit',
      entry: { trigger: { type: 'event', event: 'visited' }, reentry },
      start: 'hello',
      steps: { hello: message('Hello again', null) },
    },
    url,
  );
}

describe('entering journeys over HTTP', () => {
  it('re-entry `never`: a completed user does not enter again, however much later', async () => {
    const journeyId = await env.publish(visitJourney(env.sink.url, { mode: 'never' }));
    await env.startWorkers();
    await env.postEvents([env.event('nev', 'visited')]);
    await env.settle();
    expect(await env.journeyState('nev', journeyId)).toMatchObject({ status: 'completed', entries: 1 });

    env.advance(30 * 24 * 60 * MINUTE);
    await env.postEvents([env.event('nev', 'visited')]);
    await env.settle();
    expect(env.textsOf('nev')).toEqual(['Hello again']);
    expect(await env.journeyState('nev', journeyId)).toMatchObject({ status: 'completed', entries: 1 });
  });

  it('re-entry `after`: a user enters again only once the period since the last entry has passed', async () => {
    const journeyId = await env.publish(visitJourney(env.sink.url, { mode: 'after', after: 'PT1H' }));
    await env.startWorkers();
    await env.postEvents([env.event('aft', 'visited')]);
    await env.settle();
    const first = await env.journeyState('aft', journeyId);
    expect(first).toMatchObject({ status: 'completed', entries: 1 });

    env.advance(59 * MINUTE);
    await env.postEvents([env.event('aft', 'visited')]);
    await env.settle();
    expect(env.textsOf('aft')).toHaveLength(1);
    expect(await env.journeyState('aft', journeyId)).toMatchObject({ entries: 1, entryId: first?.entryId });

    env.advance(MINUTE);
    await env.postEvents([env.event('aft', 'visited')]);
    await env.settle();
    expect(env.textsOf('aft')).toEqual(['Hello again', 'Hello again']);
    const second = await env.journeyState('aft', journeyId);
    expect(second).toMatchObject({ status: 'completed', entries: 2 });
    expect(second?.entryId).not.toBe(first?.entryId);
    // Another entry, another message: distinct message ids.
    expect(new Set(env.delivered().map((body) => body.messageId)).size).toBe(2);
    expect((await env.stats(journeyId))['hello']?.counters).toMatchObject({ entered: 2, sent: 2 });
  });

  it('skips the messages of a type the user muted, counts them as skipped, and goes on with the journey', async () => {
    const journeyId = await env.publish(
      sendingTo(
        {
          name: 'Mutes',
          entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
          start: 'welcome',
          steps: {
            welcome: message('Welcome', 'promo'),
            promo: message('20% off', 'receipt', 'promo'),
            receipt: message('Your receipt', null, 'receipt'),
          },
        },
        env.sink.url,
      ),
    );
    await env.startWorkers();
    expect(await env.call('PUT', '/v1/users/muted/subscriptions', { muted: ['promo'] })).toEqual({ userId: 'muted', muted: ['promo'] });
    await env.putUser('muted', { plan: 'free' });
    await env.putUser('open', { plan: 'free' });
    await env.postEvents([env.event('muted', 'signed_up'), env.event('open', 'signed_up')]);
    await env.settle();

    expect(env.textsOf('muted')).toEqual(['Welcome', 'Your receipt']);
    expect(env.textsOf('open')).toEqual(['Welcome', '20% off', 'Your receipt']);
    expect(await env.journeyState('muted', journeyId)).toMatchObject({ status: 'completed' });
    const stats = await env.stats(journeyId);
    expect(stats['welcome']?.counters).toMatchObject({ sent: 2, skipped: 0 });
    expect(stats['promo']?.counters).toMatchObject({ sent: 1, skipped: 1 });
    expect(stats['receipt']?.counters).toMatchObject({ sent: 2, skipped: 0 });
  });

  it('a schedule trigger enters every user of its audience at `at`, and only them', async () => {
    await env.startWorkers();
    const users = { pro1: 'pro', pro2: 'pro', pro3: 'pro', free1: 'free', free2: 'free' };
    for (const [userId, plan] of Object.entries(users)) await env.putUser(userId, { plan, name: userId });
    await env.settle();

    const at = env.now() + 1_500;
    const journeyId = await env.publish(
      sendingTo(
        {
          name: 'Pro announcement',
          entry: { trigger: { type: 'schedule', at: new Date(at).toISOString() }, audience: { attr: 'plan', op: 'eq', value: 'pro' } },
          start: 'news',
          steps: { news: message('News for {{user.name}}', null, 'news') },
        },
        env.sink.url,
      ),
    );
    // The worker's check adds the run, delayed until `at`; read the users first, then see the run still waits.
    await eventually(() => env.scheduleRunState(journeyId, at).then((state) => state !== null), { what: 'the schedule run to be added' });
    const before = await Promise.all(Object.keys(users).map((userId) => env.journeyState(userId, journeyId)));
    expect(await env.scheduleRunState(journeyId, at)).toBe('delayed');
    expect(before.every((state) => state === undefined)).toBe(true);
    expect(env.sink.requests).toHaveLength(0);

    env.advance(1_500);
    await eventually(() => env.scheduleRunState(journeyId, at).then((state) => state === 'completed'), {
      what: 'the schedule run to finish',
    });
    await env.settle();
    expect(
      env
        .delivered()
        .map((body) => body.payload.text)
        .sort(),
    ).toEqual(['News for pro1', 'News for pro2', 'News for pro3']);
    for (const userId of ['pro1', 'pro2', 'pro3'])
      expect(await env.journeyState(userId, journeyId)).toMatchObject({ status: 'completed', entries: 1 });
    for (const userId of ['free1', 'free2']) expect(await env.journeyState(userId, journeyId)).toBeUndefined();
    // Later users and checks change nothing: the run happened once.
    await env.putUser('pro4', { plan: 'pro', name: 'pro4' });
    env.advance(MINUTE);
    await env.settle();
    expect(env.sink.requests).toHaveLength(3);
  });
});
