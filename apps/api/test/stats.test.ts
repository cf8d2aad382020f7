import { exampleJourney, JOURNEY_TOTAL } from '@journey/core';
import { createKeys, createStats } from '@journey/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ADMIN_KEY, testApp } from './helpers.js';

let t: Awaited<ReturnType<typeof testApp>>;
beforeAll(async () => {
  t = await testApp();
});
afterAll(async () => {
  await t.close();
});

const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };

describe('GET /v1/journeys/:id/stats', () => {
  it('serves the counters the dispatcher keeps, per version, step and branch', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/v1/journeys', headers: auth, payload: exampleJourney });
    const { id } = created.json();
    await t.app.inject({ method: 'POST', url: `/v1/journeys/${id}/publish`, headers: auth });
    const stats = createStats(t.deps.redis, createKeys(t.deps.config.REDIS_PREFIX));
    await stats.increment(
      id,
      1,
      [
        { stepId: 'welcome', counter: 'entered', by: 3 },
        { stepId: 'welcome', counter: 'sent', by: 2 },
        { stepId: 'welcome', counter: 'skipped' },
        { stepId: 'split', branchId: 'vip', counter: 'entered' },
      ],
      Date.now(),
    );

    const response = await t.app.inject({ method: 'GET', url: `/v1/journeys/${id}/stats`, headers: auth });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.journeyId).toBe(id);
    expect(body.versions).toHaveLength(1);
    expect(body.versions[0].steps.welcome.counters).toMatchObject({ entered: 3, sent: 2, skipped: 1, failed: 0 });
    expect(body.versions[0].steps.split.branches.vip.entered).toBe(1);

    expect((await t.app.inject({ method: 'GET', url: `/v1/journeys/${id}/stats?version=2`, headers: auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/journeys/${id}/stats?version=zero`, headers: auth })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/v1/journeys/jrn_00000000000000000000/stats', headers: auth })).statusCode).toBe(404);
    expect((await t.app.inject({ method: 'GET', url: `/v1/journeys/${id}/stats` })).statusCode).toBe(401);
  });

  it('serves conversion rates, and the counters per hour or day in a range, refusing what it cannot answer', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/v1/journeys', headers: auth, payload: exampleJourney });
    const { id } = created.json();
    await t.app.inject({ method: 'POST', url: `/v1/journeys/${id}/publish`, headers: auth });
    const stats = createStats(t.deps.redis, createKeys(t.deps.config.REDIS_PREFIX));
    const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
    await stats.increment(
      id,
      1,
      [
        { stepId: JOURNEY_TOTAL, counter: 'entered', by: 4 },
        { stepId: 'ab', branchId: 'A', counter: 'entered', by: 2 },
      ],
      hour - 3_600_000,
    );
    await stats.increment(
      id,
      1,
      [
        { stepId: JOURNEY_TOTAL, counter: 'converted' },
        { stepId: 'ab', branchId: 'A', counter: 'converted' },
      ],
      hour + 60_000,
    );

    const get = (query: string) => t.app.inject({ method: 'GET', url: `/v1/journeys/${id}/stats${query}`, headers: auth });
    const total = (await get('')).json();
    expect(total.interval).toBeNull();
    expect(total.versions[0].journey).toMatchObject({ entered: 4, converted: 1, conversionRate: 0.25 });
    expect(total.versions[0].steps.ab.branches.A).toMatchObject({ entered: 2, converted: 1, conversionRate: 0.5 });
    expect(total.versions[0].buckets).toBeUndefined();

    const from = new Date(hour - 2 * 3_600_000).toISOString();
    const to = new Date(hour + 3_600_000).toISOString();
    const hourly = await get(`?interval=hour&from=${from}&to=${to}`);
    expect(hourly.statusCode).toBe(200);
    expect(
      hourly
        .json()
        .versions[0].buckets.map((bucket: { start: string; journey: { entered: number; converted: number } }) => [
          bucket.start,
          bucket.journey.entered,
          bucket.journey.converted,
        ]),
    ).toEqual([
      [new Date(hour - 3_600_000).toISOString(), 4, 0],
      [new Date(hour).toISOString(), 0, 1],
    ]);
    const daily = (await get('?interval=day')).json();
    expect(
      daily.versions[0].buckets.reduce((sum: number, bucket: { journey: { entered: number } }) => sum + bucket.journey.entered, 0),
    ).toBe(4);

    const refused = async (query: string, path: string) => {
      const response = await get(query);
      expect(response.statusCode).toBe(400);
      expect(response.json().details.map((detail: { path: string }) => detail.path)).toContain(path);
    };
    await refused('?interval=week', 'querystring.interval');
    await refused(`?from=${from}`, 'querystring.from');
    await refused(`?interval=hour&from=${to}&to=${from}`, 'querystring.from');
    await refused(`?interval=hour&from=2020-01-01T00:00:00Z&to=${to}`, 'querystring.from');
    await refused('?interval=hour&to=yesterday', 'querystring.to');
  });
});
