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

function welcomeJourney(url: string, name = 'Welcome'): Record<string, unknown> {
  return sendingTo(
    {
      name,
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
      start: 'welcome',
      steps: { welcome: message('Welcome', null) },
    },
    url,
  );
}

describe('journey lifecycle as events see it', () => {
  it('an event accepted right after a publish answered enters the user, and one accepted after a pause answered does not', async () => {
    await env.startWorkers();
    // The workers have read their journeys already: the publish below must reach them before the event is applied.
    const earlier = await env.publish(welcomeJourney(env.sink.url, 'Earlier'));
    await env.postEvents([env.event('first', 'signed_up')]);
    await env.settle();
    expect((await env.journeyState('first', earlier))?.status).toBe('completed');

    const journeyId = await env.publish(welcomeJourney(env.sink.url));
    await env.postEvents([env.event('ann', 'signed_up')]);
    await env.settle();
    expect(await env.journeyState('ann', journeyId)).toMatchObject({ status: 'completed' });

    await env.call('POST', `/v1/journeys/${journeyId}/pause`);
    await env.postEvents([env.event('ben', 'signed_up')]);
    await env.settle();
    expect(await env.journeyState('ben', journeyId)).toBeUndefined();

    await env.call('POST', `/v1/journeys/${journeyId}/resume`);
    await env.postEvents([env.event('cy', 'signed_up')]);
    await env.settle();
    expect(await env.journeyState('cy', journeyId)).toMatchObject({ status: 'completed' });

    await env.call('POST', `/v1/journeys/${journeyId}/archive`);
    await env.postEvents([env.event('di', 'signed_up')]);
    await env.settle();
    expect(await env.journeyState('di', journeyId)).toBeUndefined();
  });
});

describe('a record that cannot be applied', () => {
  it('goes to the dead letters, visible to operators, and never holds up the other users of its partition', async () => {
    const journeyId = await env.publish(welcomeJourney(env.sink.url));
    // A user document no engine writes (a hand edit, a bug): every record of this user fails on it.
    await env
      .workerDb()
      .collection('users')
      .insertOne({ _id: 'broken' as never, attributes: 'not an object', createdAt: new Date(env.now()) });
    const partition = env.keys.eventPartitionOf('broken');
    const neighbours = Array.from({ length: 400 }, (_, index) => `n${index}`).filter(
      (userId) => env.keys.eventPartitionOf(userId) === partition,
    );
    expect(neighbours.length).toBeGreaterThan(10);
    await env.postEvents([env.event('broken', 'signed_up', {}, 'poison-1')]);
    await env.postEvents(neighbours.map((userId) => env.event(userId, 'signed_up')));
    await env.startWorkers();

    await eventually(() => env.delivered().length === neighbours.length, { what: 'every neighbour welcomed', timeoutMs: 30_000 });
    await env.settle();
    const ops = await env.call<{
      events: { pending: number; deadLetters: number; recentDeadLetters: Array<{ record: string; error: string }> };
    }>('GET', '/v1/ops/queues');
    expect(ops.events).toMatchObject({ pending: 0, deadLetters: 1 });
    expect(JSON.parse(ops.events.recentDeadLetters[0]!.record)).toMatchObject({ id: 'poison-1', userId: 'broken' });
    expect(ops.events.recentDeadLetters[0]!.error).toMatch(/attributes/);
    const metrics = await env.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^journey_events_dead_letters 1$/m);
    expect(await env.journeyState(neighbours[0]!, journeyId)).toMatchObject({ status: 'completed' });
  });
});
