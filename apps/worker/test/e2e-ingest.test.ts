import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { e2eEnv, message, sendingTo, type E2eEnv } from './e2e-harness.js';

let env: E2eEnv;
beforeEach(async () => {
  env = await e2eEnv();
});
afterEach(async () => {
  await env?.close();
});

const MINUTE = 60_000;

/** signed_up enters anyone (again a minute after the last entry), and sends one welcome. */
function welcomeJourney(url: string): Record<string, unknown> {
  return sendingTo(
    {
      name: 'Welcome',
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'after', after: 'PT1M' } },
      start: 'welcome',
      steps: { welcome: message('Welcome {{user.name}}', null) },
    },
    url,
  );
}

describe('events over HTTP', () => {
  it('processes an event id posted twice once, across requests and within one batch', async () => {
    const journeyId = await env.publish(welcomeJourney(env.sink.url));
    await env.startWorkers();
    await env.putUser('ann', { name: 'Ann' });
    await env.putUser('ben', { name: 'Ben' });

    expect(await env.postEvents([env.event('ann', 'signed_up', {}, 'evt-ann')])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect(await env.postEvents([env.event('ann', 'signed_up', {}, 'evt-ann')])).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    const batch = [env.event('ben', 'signed_up', {}, 'evt-ben'), env.event('ben', 'signed_up', {}, 'evt-ben')];
    expect(await env.postEvents(batch)).toEqual({ accepted: 1, duplicates: 1, rejected: [] });
    await env.settle();

    // Re-entry is allowed again a minute later: a duplicate processed now would enter the user a second time.
    env.advance(2 * MINUTE);
    expect(await env.postEvents([...batch, env.event('ann', 'signed_up', {}, 'evt-ann')])).toEqual({
      accepted: 0,
      duplicates: 3,
      rejected: [],
    });
    await env.settle();

    expect(env.textsOf('ann')).toEqual(['Welcome Ann']);
    expect(env.textsOf('ben')).toEqual(['Welcome Ben']);
    expect(await env.journeyState('ann', journeyId)).toMatchObject({ status: 'completed', entries: 1 });
    expect(await env.journeyState('ben', journeyId)).toMatchObject({ status: 'completed', entries: 1 });
    expect((await env.stats(journeyId))['welcome']?.counters).toMatchObject({ entered: 2, sent: 2 });
  });

  it('processes the events accepted while no worker ran once the workers start', async () => {
    const journeyId = await env.publish(welcomeJourney(env.sink.url));
    const users = Array.from({ length: 50 }, (_, index) => `user-${index}`);
    const answers = await Promise.all(users.map((userId) => env.postEvents([env.event(userId, 'signed_up', {}, `signup-${userId}`)])));
    expect(answers.every((answer) => answer.accepted === 1)).toBe(true);

    await env.startWorkers();
    await env.settle();
    expect(
      env
        .delivered()
        .map((body) => body.userId)
        .sort(),
    ).toEqual([...users].sort());
    expect(new Set(env.delivered().map((body) => body.messageId)).size).toBe(50);
    expect((await env.stats(journeyId))['welcome']?.counters).toMatchObject({ entered: 50, sent: 50 });
  });

  it('processes them even when every drain request was lost: the sweeper finds the partitions that hold records', async () => {
    await env.publish(welcomeJourney(env.sink.url));
    const users = Array.from({ length: 20 }, (_, index) => `lost-${index}`);
    await env.postEvents(users.map((userId) => env.event(userId, 'signed_up')));
    // As if every drain request of the API had failed after the events were stored.
    const drains = env.drainQueue();
    for (const queue of drains.queues) await queue.obliterate({ force: true });
    expect(await Promise.all(drains.queues.map((queue) => queue.count()))).toEqual(drains.queues.map(() => 0));

    await env.startWorkers();
    await env.settle();
    expect(
      env
        .delivered()
        .map((body) => body.userId)
        .sort(),
    ).toEqual([...users].sort());
  });
});
