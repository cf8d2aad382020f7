import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exampleJourney } from '@journey/core';
import { ensureChromium, eventually } from '@journey/embedded/testing';
import { createStats, createKeys } from '@journey/redis';
import { chromium, type Browser } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { TEST_ADMIN_KEY, testApp } from './helpers.js';

const auth = { authorization: `Bearer ${TEST_ADMIN_KEY}` };
const quiet = { info: () => undefined, warn: (message: string) => console.warn(message) };

let app: App;
let deps: AppDeps;
let close: () => Promise<void>;
let browser: Browser;
let origin: string;
beforeAll(async () => {
  ({ app, deps, close } = await testApp());
  origin = await app.listen({ host: '127.0.0.1', port: 0 });
  browser = await chromium.launch({
    executablePath: ensureChromium(quiet),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 180_000);
afterAll(async () => {
  await browser?.close();
  await close?.();
});

async function publishExample(): Promise<string> {
  const created = await app.inject({ method: 'POST', url: '/v1/journeys', headers: auth, payload: exampleJourney });
  const { id } = created.json<{ id: string }>();
  expect((await app.inject({ method: 'POST', url: `/v1/journeys/${id}/publish`, headers: auth })).statusCode).toBe(200);
  return id;
}

/** Share of the screenshot's pixels that are not the page's background, and how many colours it holds. */
function ink(png: Buffer): { share: number; colours: number } {
  const image = PNG.sync.read(png);
  const colours = new Set<number>();
  let drawn = 0;
  for (let offset = 0; offset < image.data.length; offset += 4) {
    const [r, g, b] = [image.data[offset]!, image.data[offset + 1]!, image.data[offset + 2]!];
    colours.add((r << 16) | (g << 8) | b);
    if (!(r === 0xf8 && g === 0xfa && b === 0xfc) && !(r === 255 && g === 255 && b === 255)) drawn++;
  }
  return { share: drawn / (image.width * image.height), colours: colours.size };
}

describe('the journey map in a real browser', () => {
  it('draws every step of a running journey with its count, keeps the counts live, and is not blank', async () => {
    const journeyId = await publishExample();
    const stats = createStats(deps.redis, createKeys(deps.config.REDIS_PREFIX));
    await stats.increment(
      journeyId,
      1,
      [
        { stepId: 'welcome', counter: 'entered', by: 12 },
        { stepId: 'welcome', counter: 'sent', by: 11 },
        { stepId: 'split', counter: 'entered', by: 7 },
        { stepId: 'split', branchId: 'vip', counter: 'entered', by: 3 },
      ],
      Date.now(),
    );
    const context = await browser.newContext({
      httpCredentials: { username: 'ops', password: TEST_ADMIN_KEY },
      viewport: { width: 1400, height: 1100 },
    });
    const page = await context.newPage();
    const response = await page.goto(`${origin}/journeys/${journeyId}`);
    expect(response?.status()).toBe(200);

    expect(await page.locator('h1').textContent()).toBe(exampleJourney.name);
    expect(await page.locator('header').textContent()).toContain('version 1');
    for (const stepId of Object.keys(exampleJourney.steps)) {
      await expect.poll(() => page.locator(`[data-step-node="${stepId}"] .title`).textContent()).toBe(stepId);
      expect(await page.locator(`[data-line="step:${stepId}"]`).textContent()).toMatch(/^entered \d+/);
    }
    expect(await page.locator('[data-line="step:welcome"]').textContent()).toBe('entered 12 · sent 11 · failed 0');
    expect(await page.locator('[data-line="step:split"]').textContent()).toBe('entered 7');
    expect(await page.locator('[data-line="branch:split:vip"]').textContent()).toBe('vip · 3');
    expect(await page.locator('[data-line="branch:ab:control"]').textContent()).toBe('control 10% · 0');

    // Live: counts that move show on the page within a few seconds, without a reload.
    await stats.increment(journeyId, 1, [{ stepId: 'welcome', counter: 'entered', by: 30 }], Date.now());
    await eventually(async () => (await page.locator('[data-line="step:welcome"]').textContent()) === 'entered 42 · sent 11 · failed 0', {
      what: 'the page to show the new count',
      timeoutMs: 15_000,
    });

    const screenshot = await page.screenshot({ fullPage: true });
    const dir = join(import.meta.dirname, '..', '.test-results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'journey-map.png'), screenshot);
    const drawn = ink(screenshot);
    expect(drawn.share).toBeGreaterThan(0.05);
    expect(drawn.colours).toBeGreaterThan(8);
    await context.close();
  }, 60_000);

  it('asks a browser for a key, refuses an ingest key, and answers 404 for an unknown journey', async () => {
    const anonymous = await fetch(`${origin}/journeys/jrn_00000000000000000000`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic /);
    const basic = `Basic ${Buffer.from(`x:${TEST_ADMIN_KEY}`).toString('base64')}`;
    expect((await fetch(`${origin}/journeys/jrn_00000000000000000000`, { headers: { authorization: basic } })).status).toBe(404);
  });
});
