import { createHmac } from 'node:crypto';
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
const SECRET = 'whsec_0123456789abcdef';

describe('what marketers rely on, end to end over HTTP', () => {
  it('enters users through the API with properties that Liquid templates read, once per entry id', async () => {
    const journeyId = await env.publish({
      name: 'Coupons',
      entry: { trigger: { type: 'api' }, reentry: { mode: 'after', after: 'PT1M' } },
      start: 'offer',
      steps: {
        offer: {
          ...message('', null),
          webhook: { url: env.sink.url },
          payload: {
            text: 'Hi {{ user.firstName | default: "there" }}, use {{ event.coupon | upcase }}{% if event.vip %} (VIP){% endif %}',
            items: '{% for item in event.items %}[{{ item }}]{% endfor %}',
          },
        },
      },
    });
    await env.putUser('ada', { firstName: 'Ada' });
    await env.startWorkers();
    const entries = {
      entries: [
        { userId: 'ada', id: 'spring-ada', properties: { coupon: 'spring10', vip: true, items: ['hat', 'scarf'] } },
        { userId: 'bob', properties: { coupon: 'x' } },
      ],
    };
    expect(await env.call('POST', `/v1/journeys/${journeyId}/entries`, entries, 202)).toEqual({ accepted: 2, duplicates: 0 });
    // The same entry id again (a retried request) is a duplicate: Ada is entered once.
    expect(await env.call('POST', `/v1/journeys/${journeyId}/entries`, { entries: [entries.entries[0]] }, 202)).toEqual({
      accepted: 0,
      duplicates: 1,
    });
    await env.settle();
    expect(env.delivered().map((body) => [body.userId, body.payload])).toEqual(
      expect.arrayContaining([
        ['ada', { text: 'Hi Ada, use SPRING10 (VIP)', items: '[hat][scarf]' }],
        ['bob', { text: 'Hi there, use X', items: '' }],
      ]),
    );
    expect(env.delivered()).toHaveLength(2);
  });

  it('sends the templated url, method and headers, signed, and a retry sends the very same request', async () => {
    const journeyId = await env.publish({
      name: 'Signed',
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
      start: 'hook',
      steps: {
        hook: {
          ...message('Hi {{ user.firstName }}', null),
          webhook: {
            url: `${env.sink.url}/{{ user.firstName }}?ref={{ event.ref }}`,
            method: 'PUT',
            headers: { 'X-Plan': '{{ user.plan | default: "free" }}' },
            secret: SECRET,
          },
        },
      },
    });
    env.sink.reply = (_request, index) => (index === 0 ? { status: 503 } : { status: 200 });
    await env.putUser('sig', { firstName: 'Jo Ann', plan: 'pro' });
    await env.startWorkers();
    await env.postEvents([env.event('sig', 'signed_up', { ref: 'a&b c' })]);
    await env.settle();
    expect(env.sink.requests).toHaveLength(1);
    // The user changes before the retry; the retry still sends what the first attempt sent.
    await env.putUser('sig', { firstName: 'Joan', plan: 'basic' });
    env.advance(MINUTE);
    await env.settle();
    expect(env.sink.requests).toHaveLength(2);
    const [first, retry] = env.sink.requests;
    for (const request of [first!, retry!]) {
      expect(request.method).toBe('PUT');
      expect(request.path).toBe('/hook/Jo%20Ann?ref=a%26b%20c');
      expect(request.headers['x-plan']).toBe('pro');
      expect(JSON.parse(request.body)).toMatchObject({ payload: { text: 'Hi Jo Ann' } });
      // The receiver's check, as docs/product.md shows it.
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(request.headers['journey-signature']));
      expect(match).not.toBeNull();
      const expected = createHmac('sha256', SECRET).update(`${match![1]}.${request.body}`).digest('hex');
      expect(match![2]).toBe(expected);
    }
    expect(retry!.body).toBe(first!.body);
    expect(await env.journeyState('sig', journeyId)).toMatchObject({ status: 'completed' });
  });

  it('updates the user once per visit, and the rest of the entry sees the change', async () => {
    const journeyId = await env.publish({
      name: 'Upgrade',
      entry: { trigger: { type: 'event', event: 'paid' }, reentry: { mode: 'never' } },
      start: 'mark',
      steps: {
        mark: { type: 'user_update', set: { plan: 'pro', note: 'paid {{ event.amount }}' }, unset: ['trial'], next: 'split' },
        split: {
          type: 'audience_split',
          branches: [{ id: 'pro', when: { attr: 'plan', op: 'eq', value: 'pro' }, next: 'proMsg' }],
          else: 'other',
        },
        proMsg: { ...message('Welcome to pro', null), webhook: { url: env.sink.url } },
        other: { ...message('Not pro', null), webhook: { url: env.sink.url } },
      },
    });
    await env.putUser('upg', { plan: 'free', trial: true });
    await env.startWorkers();
    await env.postEvents([env.event('upg', 'paid', { amount: 20 })]);
    await env.settle();
    expect(env.textsOf('upg')).toEqual(['Welcome to pro']);
    const user = await env.call<{ attributes: Record<string, unknown> }>('GET', '/v1/users/upg');
    expect(user.attributes).toEqual({ plan: 'pro', note: 'paid 20' });
    expect((await env.stats(journeyId))['mark']?.counters.entered).toBe(1);
  });

  it('counts goal conversions per journey, step and experiment variant (control too), once per entry, and exits on the goal', async () => {
    const journeyId = await env.publish({
      name: 'Promo test',
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'never' } },
      goal: { event: 'purchased', where: { prop: 'total', op: 'gt', value: 0 }, window: 'P7D', exitOnGoal: true },
      start: 'ab',
      steps: {
        ab: {
          type: 'experiment',
          variants: [
            { id: 'A', weight: 50, next: 'msgA' },
            { id: 'control', weight: 50, next: 'wait' },
          ],
        },
        msgA: { ...message('Offer A', 'wait'), webhook: { url: env.sink.url } },
        wait: { type: 'delay', duration: 'P1D', next: 'last' },
        last: { ...message('Last call', null), webhook: { url: env.sink.url } },
      },
    });
    await env.startWorkers();
    const users = Array.from({ length: 12 }, (_, index) => `g${index}`);
    await env.postEvents(users.map((userId) => env.event(userId, 'signed_up')));
    await env.settle();
    const buyers = users.slice(0, 6);
    // Each buyer buys twice: one conversion per entry. A zero-total purchase does not match `where`.
    await env.postEvents([
      ...buyers.flatMap((userId) => [env.event(userId, 'purchased', { total: 5 }), env.event(userId, 'purchased', { total: 7 })]),
      env.event(users[11]!, 'purchased', { total: 0 }),
    ]);
    await env.settle();
    env.advance(2 * 24 * 60 * MINUTE);
    await env.settle();

    const stats = await env.call<{
      versions: Array<{
        journey: { entered: number; converted: number; conversionRate: number };
        steps: Record<
          string,
          {
            counters: { converted: number };
            branches: Record<string, { entered: number; converted: number; conversionRate: number | null }>;
          }
        >;
      }>;
    }>('GET', `/v1/journeys/${journeyId}/stats`);
    const [version] = stats.versions;
    expect(version?.journey).toMatchObject({ entered: 12, converted: 6, conversionRate: 0.5 });
    const variants = version!.steps['ab']!.branches;
    expect((variants['A']?.converted ?? 0) + (variants['control']?.converted ?? 0)).toBe(6);
    expect((variants['A']?.entered ?? 0) + (variants['control']?.entered ?? 0)).toBe(12);
    expect(version!.steps['ab']!.counters.converted).toBe(6);
    // Buyers left at the goal: none of them got the last call; the others did.
    for (const userId of buyers) {
      expect(await env.journeyState(userId, journeyId)).toMatchObject({ status: 'exited' });
      expect(env.textsOf(userId)).not.toContain('Last call');
    }
    for (const userId of users.slice(6)) expect(env.textsOf(userId)).toContain('Last call');
  });

  it('erases a user everywhere: nothing is sent afterwards, events accepted before are not applied, 404 after', async () => {
    const journeyId = await env.publish({
      name: 'Drip',
      entry: { trigger: { type: 'event', event: 'signed_up' }, reentry: { mode: 'after', after: 'PT1M' } },
      start: 'hello',
      steps: {
        hello: { ...message('Hello', 'wait'), webhook: { url: env.sink.url } },
        wait: { type: 'delay', duration: 'PT1H', next: 'later' },
        later: { ...message('Later', null), webhook: { url: env.sink.url } },
      },
    });
    await env.putUser('gone', { firstName: 'Gone' });
    await env.call('PUT', '/v1/users/gone/subscriptions', { muted: ['promo'] });
    await env.startWorkers();
    await env.postEvents([env.event('gone', 'signed_up')]);
    await env.settle();
    expect(env.textsOf('gone')).toEqual(['Hello']);

    // An event still waiting in the user's partition when the erasure comes: never applied.
    await env.stopWorkers();
    await env.postEvents([env.event('gone', 'signed_up', {}, 'late-1')]);
    await env.call('DELETE', '/v1/users/gone', undefined, 204);
    await env.call('GET', '/v1/users/gone', undefined, 404);
    await env.call('DELETE', '/v1/users/gone', undefined, 404);
    await env.startWorkers();
    env.advance(2 * 60 * MINUTE);
    await env.settle();
    expect(env.textsOf('gone')).toEqual(['Hello']);
    await env.call('GET', '/v1/users/gone', undefined, 404);
    expect(await env.workerDb().collection('journey_states').countDocuments({ userId: 'gone' })).toBe(0);
    expect((await env.stats(journeyId))['later']?.counters.sent ?? 0).toBe(0);
    // Written again, the user is a new one: no mutes, no journeys.
    await env.putUser('gone', { firstName: 'Back' });
    expect(await env.call('GET', '/v1/users/gone')).toMatchObject({
      attributes: { firstName: 'Back' },
      subscriptions: { muted: [] },
      journeys: [],
    });
  });
});
