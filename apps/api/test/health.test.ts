import { freePort } from '@journey/embedded';
import { createRedis } from '@journey/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { testApp } from './helpers.js';

describe('GET /health', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('is 200 when Redis and MongoDB answer', async () => {
    const t = await testApp();
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ status: 'ok', checks: { redis: { status: 'ok' }, mongodb: { status: 'ok' } } });
  });

  it('reports Redis as failed, without crashing, when Redis is unreachable', async () => {
    const deadPort = await freePort(); // nothing listens there
    const redis = createRedis(`redis://127.0.0.1:${deadPort}`, 'command', { retryStrategy: () => null, lazyConnect: true });
    const t = await testApp({ redis });
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/health' });
    expect(response.statusCode).toBe(503);
    const body = response.json();
    expect(body.status).toBe('fail');
    expect(body.checks.redis.status).toBe('fail');
    expect(body.checks.redis.error).toEqual(expect.any(String));
    expect(body.checks.mongodb.status).toBe('ok');
    // The app keeps serving after the failure.
    expect((await t.app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(503);
  });
});

describe('HTTP edge basics', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('serves the OpenAPI document and the docs UI', async () => {
    const t = await testApp();
    close = t.close;
    const spec = await t.app.inject({ method: 'GET', url: '/docs/json' });
    expect(spec.statusCode).toBe(200);
    expect(spec.json().openapi).toMatch(/^3\./);
    expect(Object.keys(spec.json().paths)).toContain('/health');
    const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toContain('text/html');
  });

  it('answers unknown routes with a 404 in the contract error format', async () => {
    const t = await testApp();
    close = t.close;
    const response = await t.app.inject({ method: 'GET', url: '/nope?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'Route GET /nope not found' });
  });
});
