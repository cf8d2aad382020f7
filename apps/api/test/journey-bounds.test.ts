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
    { name: 'a delay of 10^20 seconds', change: (j: Draft) => (j.steps.wait.duration = 'PT100000000000000000000S'), path: 'steps.wait.duration' },
    { name: 'a delay of 400 digits of days', change: (j: Draft) => (j.steps.wait.duration = `P${'9'.repeat(400)}D`), path: 'steps.wait.duration' },
    { name: `a frequency-cap period of ${FAR}`, change: (j: Draft) => (j.settings.frequencyCap.per = FAR), path: 'settings.frequencyCap.per' },
    { name: `an action window of ${FAR}`, change: (j: Draft) => (j.steps.act.window = FAR), path: 'steps.act.window' },
    { name: `a re-entry period of ${FAR}`, change: (j: Draft) => (j.entry.reentry = { mode: 'after', after: FAR }), path: 'entry.reentry.after' },
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
    { name: 'a schedule at the epoch', change: schedule('1970-01-01T00:00:00Z') },
    { name: 'a schedule in 2099', change: schedule('2099-12-31T23:59:59Z') },
    { name: 'a delay of 10 years', change: (j: Draft) => (j.steps.wait.duration = 'P10Y') },
    { name: 'a delay of 120 months', change: (j: Draft) => (j.steps.wait.duration = 'P120M') },
    { name: 'a frequency-cap period of 3650 days', change: (j: Draft) => (j.settings.frequencyCap.per = 'P3650D') },
  ])('accepts $name', async ({ change }) => {
    const created = await call(t.app, 'POST', '/v1/journeys', { payload: exampleWith(change) });
    expect(created.statusCode, created.body).toBe(201);
  });
});
