import { exampleJourney } from '@journey/core';
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
    await stats.increment(id, 1, [
      { stepId: 'welcome', counter: 'entered', by: 3 },
      { stepId: 'welcome', counter: 'sent', by: 2 },
      { stepId: 'welcome', counter: 'skipped' },
      { stepId: 'split', branchId: 'vip', counter: 'entered' },
    ]);

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
});
