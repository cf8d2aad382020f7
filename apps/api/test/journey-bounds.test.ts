import { exampleJourney } from '@journey/core';
import { describe, expect, it } from 'vitest';
import { sharedTestApp } from './helpers.js';
import { call } from './ingest-helpers.js';

/** A journey document as a test edits it: loosely typed, because some are made invalid on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Draft = any;

/** A deep copy of the contract's example, changed by `change`. */
function exampleWith(change: (journey: Draft) => void): unknown {
  const journey = structuredClone(exampleJourney);
  change(journey);
  return journey;
}

const schedule = (at: string) => (j: Draft) => {
  j.entry.trigger = { type: 'schedule', at };
};

describe('journey dates and durations stay in range', () => {
  const t = sharedTestApp();

  const FAR = 'P999999999Y';
  const refused: Array<{ name: string; change: (journey: Draft) => void; path: string }> = [
    { name: 'a schedule before 1970', change: schedule('1969-12-31T23:59:59Z'), path: 'entry.trigger.at' },
    { name: 'a schedule in year 1', change: schedule('0001-01-01T00:00:00Z'), path: 'entry.trigger.at' },
    { name: 'a schedule in 2100', change: schedule('2100-01-01T00:00:00Z'), path: 'entry.trigger.at' },
    { name: 'a schedule in 9999', change: schedule('9999-12-31T23:59:59+14:00'), path: 'entry.trigger.at' },
    { name: `a delay of ${FAR}`, change: (j: Draft) => (j.steps.wait.duration = FAR), path: 'steps.wait.duration' },
    { name: 'a delay of 11 years', change: (j: Draft) => (j.steps.wait.duration = 'P11Y'), path: 'steps.wait.duration' },
    {
      name: 'a delay of 10^20 seconds',
      change: (j: Draft) => (j.steps.wait.duration = 'PT100000000000000000000S'),
      path: 'steps.wait.duration',
    },
    {
      name: 'a delay of 400 digits of days',
      change: (j: Draft) => (j.steps.wait.duration = `P${'9'.repeat(400)}D`),
      path: 'steps.wait.duration',
    },
    {
      name: `a frequency-cap period of ${FAR}`,
      change: (j: Draft) => (j.settings.frequencyCap.per = FAR),
      path: 'settings.frequencyCap.per',
    },
    { name: `an action window of ${FAR}`, change: (j: Draft) => (j.steps.act.window = FAR), path: 'steps.act.window' },
    {
      name: `a re-entry period of ${FAR}`,
      change: (j: Draft) => (j.entry.reentry = { mode: 'after', after: FAR }),
      path: 'entry.reentry.after',
    },
  ];

  it.each(refused)('refuses $name with 400 naming $path, on create and on replace', async ({ change, path }) => {
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: exampleWith(change) });
    expect(created.statusCode, created.body).toBe(400);
    expect(created.json().details).toEqual([{ path, message: expect.any(String) }]);

    const plain = await call(t.app, 'POST', '/v1/journeys', { payload: exampleJourney });
    const replaced = await call(t.app, 'PUT', `/v1/journeys/${plain.json().id}`, { payload: exampleWith(change) });
    expect(replaced.statusCode, replaced.body).toBe(400);
    expect(replaced.json().details).toEqual([{ path, message: expect.any(String) }]);
  });

  it.each([
    { name: 'a schedule in 2099', change: schedule('2099-12-31T23:59:59Z') },
    { name: 'a delay of 10 years', change: (j: Draft) => (j.steps.wait.duration = 'P10Y') },
    { name: 'a delay of 120 months', change: (j: Draft) => (j.steps.wait.duration = 'P120M') },
    { name: 'a frequency-cap period of 3650 days', change: (j: Draft) => (j.settings.frequencyCap.per = 'P3650D') },
  ])('accepts $name', async ({ change }) => {
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: exampleWith(change) });
    expect(created.statusCode, created.body).toBe(201);
  });

  it('refuses a one-time schedule in the past at its path, when saved', async () => {
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: exampleWith(schedule('1970-01-01T00:00:00Z')) });
    expect(created.statusCode).toBe(400);
    expect(created.json().details).toEqual([{ path: 'entry.trigger.at', message: expect.stringMatching(/in the past/) }]);
  });
});

/** A journey of `count` message steps in a chain, each with `payload`. */
function chain(count: number, payload: Record<string, unknown> = { text: 'x' }): Draft {
  const steps = Object.fromEntries(
    Array.from({ length: count }, (_, index) => [
      `s${index}`,
      {
        type: 'message',
        channel: 'webhook',
        messageType: 'promo',
        webhook: { url: 'https://example.com/hook' },
        payload,
        next: index + 1 < count ? `s${index + 1}` : null,
      },
    ]),
  );
  return { name: 'Chain', entry: { trigger: { type: 'api' } }, start: 's0', steps };
}

describe('journeys are bounded', () => {
  const t = sharedTestApp();
  const hook = { url: 'https://example.com/hook' };
  const many = <T>(count: number, item: (index: number) => T): T[] => Array.from({ length: count }, (_, index) => item(index));

  const refused: Array<{ name: string; journey: () => unknown; path: string; message: RegExp }> = [
    { name: '501 steps', journey: () => chain(501), path: 'steps', message: /at most 500 steps/ },
    {
      name: '15,000 small steps',
      journey: () => ({ ...chain(1), steps: Object.fromEntries(Array.from({ length: 15_000 }, (_, i) => [`s${i}`, { type: 'exit' }])) }),
      path: 'steps',
      message: /at most 500 steps, not 15000/,
    },
    {
      name: 'an audience split of 51 branches',
      journey: () =>
        exampleWith(
          (j) => (j.steps.split.branches = many(51, (i) => ({ id: `b${i}`, when: { attr: 'plan', op: 'eq', value: i }, next: 'vipMsg' }))),
        ),
      path: 'steps.split.branches',
      message: /at most 50/,
    },
    {
      name: 'action paths of 51 paths',
      journey: () => exampleWith((j) => (j.steps.act.paths = many(51, (i) => ({ id: `p${i}`, event: `e${i}`, next: 'thanks' })))),
      path: 'steps.act.paths',
      message: /at most 50/,
    },
    {
      name: 'an experiment of 21 variants',
      journey: () => exampleWith((j) => (j.steps.ab.variants = many(21, (i) => ({ id: `v${i}`, weight: i < 20 ? 5 : 0, next: null })))),
      path: 'steps.ab.variants',
      message: /at most 20/,
    },
    {
      name: 'a payload over 32 KiB',
      journey: () => exampleWith((j) => (j.steps.welcome.payload = { text: 'x'.repeat(32 * 1024) })),
      path: 'steps.welcome.payload',
      message: /at most 32 KiB/,
    },
    {
      name: 'a webhook URL over 2048 characters',
      journey: () => exampleWith((j) => (j.steps.welcome.webhook = { url: `${hook.url}?${'q'.repeat(2048)}` })),
      path: 'steps.welcome.webhook.url',
      message: /at most 2048/,
    },
    {
      name: 'a trigger event name over 128 characters',
      journey: () => exampleWith((j) => (j.entry.trigger.event = 'e'.repeat(129))),
      path: 'entry.trigger.event',
      message: /at most 128/,
    },
    {
      name: 'an action path event name over 128 characters',
      journey: () => exampleWith((j) => (j.steps.act.paths[0].event = 'e'.repeat(129))),
      path: 'steps.act.paths.0.event',
      message: /at most 128/,
    },
    {
      name: '101 exit events',
      journey: () => exampleWith((j) => (j.exit.events = many(101, (i) => `gone${i}`))),
      path: 'exit.events',
      message: /at most 100/,
    },
    {
      name: 'an exit event name over 128 characters',
      journey: () => exampleWith((j) => (j.exit.events = ['e'.repeat(129)])),
      path: 'exit.events.0',
      message: /at most 128/,
    },
    { name: 'a definition over 512 KiB', journey: () => chain(20, { text: 'x'.repeat(30 * 1024) }), path: '', message: /at most 512 KiB/ },
  ];

  it.each(refused)('refuses $name with 400 naming the field', async ({ journey, path, message }) => {
    const response = await call(t.app, 'POST', '/v1/journeys', { payload: journey() });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(400);
    // One issue: a document past a whole-journey bound is not walked by the rules (15,000 steps, no graph issues).
    expect(response.json().details).toEqual([{ path, message: expect.stringMatching(message) }]);
  });

  it('accepts a journey at the bounds: 500 steps, 50 branches and paths, 20 variants, a 32 KiB payload', async () => {
    expect((await call(t.app, 'POST', '/v1/journeys', { payload: chain(500) })).statusCode).toBe(201);
    const wide = exampleWith((j) => {
      j.steps.split.branches = many(50, (i) => ({ id: `b${i}`, when: { attr: 'plan', op: 'eq', value: i }, next: 'vipMsg' }));
      j.steps.act.paths = many(50, (i) => ({ id: `p${i}`, event: `e${i}`.padEnd(128, 'x'), next: 'thanks' }));
      j.steps.ab.variants = many(20, (i) => ({ id: `v${i}`, weight: 5, next: ['msgA', 'msgB'][i] ?? null }));
      j.steps.welcome.payload = { text: 'x'.repeat(32 * 1024 - 20) };
      j.exit.events = many(100, (i) => `gone${i}`);
    });
    const response = await call(t.app, 'POST', '/v1/journeys', { payload: wide });
    expect(response.statusCode, response.body.slice(0, 500)).toBe(201);
  });
});
