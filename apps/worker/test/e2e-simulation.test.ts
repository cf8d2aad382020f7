import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { e2eEnv, message, type E2eEnv } from './e2e-harness.js';

let env: E2eEnv;
beforeEach(async () => {
  env = await e2eEnv();
});
afterEach(async () => {
  await env?.close();
});

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const SECRET = 'whsec_simulation_0123456789';

interface SimulatedMessage {
  kind: 'message';
  at: string;
  stepId: string;
  status: string;
  request: { method: string; url: string; headers: Record<string, string>; body: string } | null;
}

interface EntrySimulationBody {
  entered: boolean;
  entryId: string;
  path: string[];
  timeline: Array<{ kind: string } & Record<string, unknown>>;
  end: { status: string; stepId: string | null };
}

/** Signed, templated url and headers, a user_update read by a split, a delay, action paths and an experiment. */
function journeyTo(sinkUrl: string): Record<string, unknown> {
  const hook = (text: string, next: string | null) => ({
    ...message(text, next),
    webhook: { url: `${sinkUrl}/{{ user.firstName }}?src={{ event.source }}`, headers: { 'X-Plan': '{{ user.plan }}' }, secret: SECRET },
  });
  return {
    name: 'Simulated',
    entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
    start: 'welcome',
    steps: {
      welcome: hook('Hi {{ user.firstName }} from {{ event.source }}', 'mark'),
      mark: { type: 'user_update', set: { stage: 'onboarded' }, next: 'wait' },
      wait: { type: 'delay', duration: 'PT1H', next: 'split' },
      split: {
        type: 'audience_split',
        branches: [{ id: 'onboarded', when: { attr: 'stage', op: 'eq', value: 'onboarded' }, next: 'act' }],
        else: null,
      },
      act: { type: 'action_paths', window: 'P1D', paths: [{ id: 'bought', event: 'purchased', next: 'thanks' }], timeout: 'ab' },
      thanks: hook('Thanks for {{ event.item }}', null),
      ab: {
        type: 'experiment',
        variants: [
          { id: 'A', weight: 50, next: 'offerA' },
          { id: 'B', weight: 50, next: 'offerB' },
        ],
      },
      offerA: hook('Offer A, {{ user.firstName }}', null),
      offerB: hook('Offer B, {{ user.firstName }}', null),
    },
  };
}

/** The steps and branches the entry's state recorded, as the simulation's path lists them. */
async function recordedPath(journeyId: string, userId: string): Promise<string[]> {
  const state = await env
    .workerDb()
    .collection<{ path: { steps: string[]; branches: string[] } }>('journey_states')
    .findOne({ journeyId, userId });
  return [...state!.path.steps, ...state!.path.branches].sort();
}

describe('simulation and test send against the real dispatch', () => {
  it('simulates the path and the very requests the dispatcher sends, for a user who buys and one who does not', async () => {
    const journeyId = await env.publish(journeyTo(env.sink.url));
    const attributes = { ada: { firstName: 'Ada', plan: 'pro' }, bob: { firstName: 'Bob', plan: 'free' } };
    await env.putUser('ada', attributes.ada);
    await env.putUser('bob', attributes.bob);
    await env.startWorkers();
    const enteredAt = env.now();
    await env.postEvents([env.event('ada', 'signed_up', { source: 'ads' }), env.event('bob', 'signed_up', { source: 'ads' })]);
    await env.settle();
    env.advance(HOUR);
    await env.settle();
    env.advance(30 * MINUTE);
    await env.postEvents([env.event('ada', 'purchased', { item: 'Tea' })]);
    await env.settle();
    // To Bob's action window's end (a day after he reached it): the clock is then where the simulation puts his offer.
    env.advance(24 * HOUR - 30 * MINUTE);
    await env.settle();

    for (const userId of ['ada', 'bob'] as const) {
      const state = await env.journeyState(userId, journeyId);
      expect(state?.status).toBe('completed');
      const simulated = await env.call<EntrySimulationBody>('POST', `/v1/journeys/${journeyId}/simulate`, {
        // The attributes the user entered with (the store now holds the journey's user_update), and the real entry id.
        user: { userId, attributes: attributes[userId], entryId: state!.entryId },
        enteredAt: new Date(enteredAt).toISOString(),
        entry: { properties: { source: 'ads' } },
        events: userId === 'ada' ? [{ after: 'PT1H30M', name: 'purchased', properties: { item: 'Tea' } }] : [],
      });
      expect(simulated.entered).toBe(true);
      expect(simulated.end.status).toBe('completed');
      expect([...new Set(simulated.path)].sort()).toEqual(await recordedPath(journeyId, userId));

      const sent = env.sink.requests.filter((request) => JSON.parse(request.body).userId === userId);
      const simulatedSends = simulated.timeline.filter((entry) => entry.kind === 'message') as unknown as SimulatedMessage[];
      expect(simulatedSends.map((entry) => entry.status)).toEqual(sent.map(() => 'sent'));
      expect(sent.length).toBe(2);
      for (const [index, request] of sent.entries()) {
        const expected = simulatedSends[index]!.request!;
        // Byte for byte: body, url, method, and every header the engine sets (the signature too: same clock second).
        expect(request.body).toBe(expected.body);
        const url = new URL(expected.url);
        expect(request.path).toBe(`${url.pathname}${url.search}`);
        expect(request.method).toBe(expected.method);
        for (const [name, value] of Object.entries(expected.headers)) expect(request.headers[name.toLowerCase()]).toBe(value);
      }
    }
    const ada = env.sink.requests.filter((request) => JSON.parse(request.body).userId === 'ada');
    expect(JSON.parse(ada[1]!.body).payload).toEqual({ text: 'Thanks for Tea' });
  });

  it('gives the share of users per path with the same decisions', async () => {
    const journeyId = await env.publish(journeyTo(env.sink.url));
    const users = Array.from({ length: 40 }, (_, index) => ({ userId: `u${index}`, attributes: { firstName: `U${index}`, plan: 'free' } }));
    const result = await env.call<{
      users: number;
      entered: number;
      paths: Array<{ path: string[]; users: number; share: number }>;
      messages: Record<string, { sent: number }>;
    }>('POST', `/v1/journeys/${journeyId}/simulate`, { users, entry: { properties: { source: 'ads' } } });
    expect(result.users).toBe(40);
    expect(result.entered).toBe(40);
    // Nobody buys: everyone times out into the experiment, whose variants split them.
    expect(result.paths.map((share) => share.path.at(-2))).toEqual(expect.arrayContaining(['ab:A', 'ab:B']));
    expect(result.paths.reduce((sum, share) => sum + share.users, 0)).toBe(40);
    expect(result.messages['welcome']!.sent).toBe(40);
    expect(result.messages['offerA']!.sent + result.messages['offerB']!.sent).toBe(40);
    // A dry run: nothing was sent, entered or counted.
    expect(env.sink.requests).toHaveLength(0);
    expect(await env.journeyState('u0', journeyId)).toBeUndefined();
    expect(Object.values(await env.stats(journeyId)).every((step) => step.counters.entered === 0)).toBe(true);
  });

  it('test-sends a message step as the dispatcher renders it, marked, touching no state or counter', async () => {
    const journeyId = await env.publish(journeyTo(env.sink.url));
    await env.putUser('ada', { firstName: 'Ada', plan: 'pro' });
    await env.startWorkers();
    await env.postEvents([env.event('ada', 'signed_up', { source: 'ads' })]);
    await env.settle();
    const real = env.sink.requests[0]!;
    const statsBefore = await env.stats(journeyId);

    await env.putUser('carol', { firstName: 'Ada', plan: 'pro' });
    const result = await env.call<{
      delivered: boolean;
      request: { body: string; headers: Record<string, string> };
      response: { status: number };
    }>('POST', `/v1/journeys/${journeyId}/steps/welcome/test`, { userId: 'carol', properties: { source: 'ads' } });
    expect(result.delivered).toBe(true);
    expect(result.response.status).toBe(200);
    const test = env.sink.requests[1]!;
    expect(test.headers['journey-test']).toBe('true');
    expect(test.path).toBe(real.path);
    expect(test.headers['x-plan']).toBe(real.headers['x-plan']);
    expect(test.body).toBe(result.request.body);
    const [testBody, realBody] = [JSON.parse(test.body), JSON.parse(real.body)];
    expect(testBody.payload).toEqual(realBody.payload);
    expect(testBody.messageId).not.toBe(realBody.messageId);
    expect(testBody.userId).toBe('carol');

    // An override URL gets it instead; nothing of the journey's state or counters moved.
    await env.call('POST', `/v1/journeys/${journeyId}/steps/thanks/test`, {
      attributes: { firstName: 'Zed' },
      url: `${env.sink.url}/override`,
    });
    expect(env.sink.requests[2]!.path).toBe('/hook/override');
    expect(JSON.parse(env.sink.requests[2]!.body).payload).toEqual({ text: 'Thanks for ' });
    expect(await env.stats(journeyId)).toEqual(statsBefore);
    expect(await env.journeyState('carol', journeyId)).toBeUndefined();
  });
});
