import { describe, expect, it } from 'vitest';
import {
  decideMember,
  settleSend,
  undeliverable,
  compileString,
  compileValue,
  JourneyDefinitionSchema,
  newRenderBudget,
  renderMessage,
  TEMPLATE_LIMITS,
  templateProblem,
  validateJourney,
  type JourneyDefinition,
} from '../../src/index.js';
import { validExample } from '../engine/journey.js';

const scope = {
  user: { firstName: 'Ada', vip: true, tags: ['a', 'b'], address: { city: 'London' }, plan: 'pro' },
  event: { item: 'Hat', coupon: 'X1 & Y', lines: [{ sku: 'H1' }] },
};
const render = (source: string, kind: 'text' | 'url' = 'text') => compileString(source, 'test', kind)(scope, newRenderBudget());

describe('Liquid templates', () => {
  it.each([
    ['Hi {{user.firstName}}', 'Hi Ada'],
    ['Hi {{ user.lastName | default: "there" }}', 'Hi there'],
    ['{% if user.vip %}VIP{% else %}regular{% endif %}', 'VIP'],
    ['{% for tag in user.tags %}[{{ tag | upcase }}]{% endfor %}', '[A][B]'],
    ['{{ event.item }} for {{ user.address.city }}', 'Hat for London'],
    ['SKU {{ event.lines[0].sku }}', 'SKU H1'],
    ['At {{ user.address }}', 'At {"city":"London"}'],
    ['Missing [{{ user.nothing.deep }}]', 'Missing []'],
    ['Inherited [{{ user.constructor }}]', 'Inherited []'],
    ['No markup', 'No markup'],
  ])('%s', (source, expected) => {
    expect(render(source)).toBe(expected);
  });

  it('URL-encodes values in URLs, not the URL around them', () => {
    expect(render('https://x.test/c/{{ event.coupon }}?u={{ user.firstName }}', 'url')).toBe('https://x.test/c/X1%20%26%20Y?u=Ada');
  });

  it('names what does not parse, unknown filters included', () => {
    expect(templateProblem('Hi {{ user.firstName | shout }}')).toMatch(/undefined filter: shout/);
    expect(templateProblem('{% if user.vip %}VIP')).toMatch(/not closed/);
    expect(templateProblem('Hi {{ user.firstName }}')).toBeNull();
  });

  it('bounds a rendering that would run away, in time, memory and output', () => {
    expect(() => render('{% for i in (1..100000000) %}{{ i }}{% endfor %}')).toThrow(/test: /);
    expect(() => render(`{% assign s = "${'x'.repeat(1000)}" %}{% for i in (1..100) %}{{ s }}{% endfor %}`)).toThrow(
      new RegExp(`more than ${TEMPLATE_LIMITS.outputChars}`),
    );
    const many = compileValue(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, 'x'.repeat(40_000)])), 'payload');
    expect(() => many(scope, newRenderBudget())).toThrow(/the message renders to more than/);
  });
});

describe('templates in journeys', () => {
  const withWelcome = (welcome: Record<string, unknown>) => {
    const journey = validExample();
    return { ...journey, steps: { ...journey.steps, welcome: { ...journey.steps.welcome, ...welcome } } };
  };

  it('refuses a broken template at its path', () => {
    const result = validateJourney(
      withWelcome({
        payload: { text: 'Hi {{ user.firstName | shout }}', nested: ['{% if x %}'] },
        webhook: { url: 'https://x.test/{{ user.id | nope }}', headers: { 'X-A': '{{ ' } },
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path)).toEqual([
      'steps.welcome.payload.text',
      'steps.welcome.payload.nested.0',
      'steps.welcome.webhook.url',
      'steps.welcome.webhook.headers.X-A',
    ]);
  });

  it('refuses headers the engine writes, and methods it does not send', () => {
    const result = validateJourney(
      withWelcome({ webhook: { url: 'https://x.test/', method: 'GET', headers: { 'Idempotency-Key': 'x' } } }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((issue) => issue.path).sort()).toEqual([
      'steps.welcome.webhook.headers.Idempotency-Key',
      'steps.welcome.webhook.method',
    ]);
  });

  it('renders url, headers and payload of a message once compiled, and reports a failing one', () => {
    const journey: JourneyDefinition = JourneyDefinitionSchema.parse(
      withWelcome({
        webhook: { url: 'https://x.test/u/{{ user.firstName }}', method: 'PUT', headers: { 'X-Plan': '{{ user.plan }}' } },
        payload: { text: '{{ event.coupon | default: "none" }}' },
      }),
    );
    const step = journey.steps.welcome;
    if (step?.type !== 'message') throw new Error('welcome is a message step');
    expect(renderMessage(journey, 'welcome', step, scope)).toEqual({
      ok: true,
      value: { method: 'PUT', url: 'https://x.test/u/Ada', headers: { 'X-Plan': 'pro' }, payload: { text: 'X1 & Y' } },
    });
    expect(renderMessage(journey, 'welcome', step, { user: { plan: 'a\nb' } })).toEqual({
      ok: false,
      error: 'webhook.headers.X-Plan: renders to a line break or control character',
    });
  });
});

describe('a message whose templates fail', () => {
  it('is recorded failed with template_error, and the entry goes on without a send', () => {
    const journey = validExample((draft) => {
      (draft.steps as Record<string, Record<string, unknown>>).welcome!.payload = {
        text: '{% for i in (1..100000000) %}{{ i }}{% endfor %}',
      };
    });
    const now = Date.parse('2026-11-23T12:00:00Z');
    const decision = decideMember({
      journey,
      journeyId: 'j1',
      version: 1,
      item: { stepId: 'welcome', userId: 'u1', entryId: 'e1', expectedToken: '', ownToken: '0' },
      state: {
        journeyId: 'j1',
        userId: 'u1',
        version: 1,
        entryId: 'e1',
        status: 'active',
        stepId: 'welcome',
        token: '0',
        trigger: null,
        awaiting: null,
        actionEvent: null,
        messages: {},
        lastEnteredAt: now,
        path: { steps: [], branches: [] },
        convertedAt: null,
      },
      user: {},
      now,
    });
    if (decision.kind !== 'send') throw new Error(`expected a send decision, got ${decision.kind}`);
    const delivery = undeliverable(decision);
    expect(delivery).toEqual({ status: 'failed', reason: 'template_error', error: expect.stringMatching(/^payload\.text: /) });
    const settlement = settleSend(decision, delivery!, { windowMs: 1, baseDelayMs: 1, maxDelayMs: 1 });
    expect(settlement.commit).toMatchObject({
      stepId: 'wait',
      message: { record: { status: 'failed', reason: 'template_error', attempts: 0, firstAttemptAt: null } },
    });
    expect(settlement.commitCounts).toContainEqual({ stepId: 'welcome', counter: 'failed' });
  });
});
