#!/usr/bin/env node
/**
 * The engine's two commands after bootstrap (scripts/start.mjs, scripts/test.mjs):
 *   start    - embedded servers unless REDIS_URL / MONGODB_URI are given, then the API and the workers
 *   test     - its own servers on free ports, then every package's typecheck, the lint and format check, and
 *              tests through turbo; then the Redis and worker tests again on a 3-master Redis Cluster
 *   services - only the servers, for development against them
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redisEnv } from '@journey/config';
import { provideRedisCluster, provideServices, type Services } from './services.js';
import { ensureChromium } from './chromium.js';
import { consoleLog } from './service-log.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'pnpm-workspace.yaml'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root (pnpm-workspace.yaml)');
    dir = parent;
  }
  return dir;
}

const root = repoRoot();

function onShutdownSignal(handler: (signal: NodeJS.Signals) => void): void {
  let signalled = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (signalled) return; // a second Ctrl-C while stopping is ignored; stopping is bounded anyway
      signalled = true;
      handler(signal);
    });
  }
}

function waitForExit(child: ChildProcess): Promise<number> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function stopChild(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await waitForExit(child);
  clearTimeout(timer);
}

/** One admin key per data directory, so `npm start` twice keeps the same key. */
function adminKey(dataDir: string): string {
  if (process.env.ADMIN_API_KEY) return process.env.ADMIN_API_KEY;
  const file = join(dataDir, 'admin-api-key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const key = `je_admin_${randomBytes(24).toString('base64url')}`;
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}

async function start(): Promise<void> {
  const dataDir = process.env.JOURNEY_DATA_DIR ?? join(root, '.data');
  mkdirSync(dataDir, { recursive: true });
  const services = await provideServices({ log: consoleLog, dataDir });
  const env = {
    ...process.env,
    ...redisEnv(services.redisTarget),
    MONGODB_URI: services.mongoUri,
    ADMIN_API_KEY: adminKey(dataDir),
  };
  // Own process groups: a Ctrl-C reaches only this CLI, which then stops each app exactly once.
  const app = (file: string) => spawn(process.execPath, [join(root, file)], { stdio: 'inherit', env, detached: true });
  const children = [
    { name: 'api', child: app('apps/api/dist/main.js') },
    { name: 'worker', child: app('apps/worker/dist/main.js') },
  ];
  process.once('exit', () => {
    for (const { child } of children) child.kill('SIGKILL');
  });
  let stopping = false;
  const shutdown = async (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    consoleLog.info('stopping the API, the workers and the embedded servers');
    await Promise.all(children.map(({ child }) => stopChild(child, 15_000)));
    await services.stop();
    process.exit(exitCode);
  };
  onShutdownSignal(() => void shutdown(0));
  for (const { name, child } of children) {
    child.once('exit', (code, signal) => {
      if (stopping) return;
      consoleLog.warn(`the ${name} process exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
      void shutdown(1);
    });
  }

  const host = process.env.HOST ?? '127.0.0.1';
  const base = `http://${host.includes(':') ? `[${host}]` : host}:${process.env.PORT ?? '3000'}`;
  const deadline = Date.now() + 60_000;
  while (!stopping) {
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      consoleLog.warn(`the API did not report healthy at ${base}/health within 60 s`);
      return shutdown(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (stopping) return;
  console.log(
    [
      '',
      'Journey engine is running.',
      `  API      ${base}`,
      `  Docs     ${base}/docs`,
      `  Health   ${base}/health`,
      `  Ops      ${base}/v1/ops/queues, ${base}/metrics, dashboard ${base}/ops/dashboard (any user, the key as password)`,
      `  MongoDB  ${services.mongo}`,
      `  Redis    ${services.redis}`,
      `  Admin key (Authorization: Bearer ...): ${env.ADMIN_API_KEY}`,
      '  Ctrl-C stops everything this command started.',
      '',
    ].join('\n'),
  );
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  testResults: Array<{
    name: string;
    message?: string;
    assertionResults: Array<{ fullName: string; status: string; failureMessages: string[] }>;
  }>;
}

/** One line per failed test (or failed file), so a CI log cut to its tail still names what failed. */
function failureLines(report: VitestJson): string[] {
  const firstLine = (text: string | undefined) => (text ?? '').split('\n', 1)[0]!.slice(0, 300);
  return report.testResults.flatMap((file) => {
    const where = relative(root, file.name);
    const failedTests = file.assertionResults.filter((test) => test.status === 'failed');
    if (failedTests.length === 0 && file.message) return [`  ${where}: ${firstLine(file.message)}`];
    return failedTests.map((test) => `  ${where} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
  });
}

/** Each package's results: `vitest.json` of the run on a single Redis, `vitest-cluster.json` of the cluster run. */
function resultFiles(): string[] {
  return ['apps', 'packages', '.']
    .flatMap((group) => (group === '.' ? ['bench'] : readdirSync(join(root, group)).map((name) => join(group, name))))
    .flatMap((pkg) => ['vitest.json', 'vitest-cluster.json'].map((file) => join(root, pkg, '.test-results', file)));
}

/** The environment without the variables that name a Redis: each run names its own. */
function withoutRedis(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'REDIS_URL' && name !== 'REDIS_CLUSTER_NODES'));
}

async function test(): Promise<void> {
  for (const file of resultFiles()) rmSync(file, { force: true });
  // Before any test runs: installing it from a test would take apt-get's lock while the suites run.
  const chromium = ensureChromium(consoleLog);
  const env = withoutRedis(process.env);
  const services: Services = await provideServices({ log: consoleLog, env: { ...env, REDIS_URL: process.env.REDIS_URL } });
  const cluster = await provideRedisCluster({ log: consoleLog }).catch(async (error: unknown) => {
    await services.stop();
    throw error;
  });
  const banner = `Test servers:\n  MongoDB        ${services.mongo}\n  Redis          ${services.redis}\n  Redis Cluster  ${cluster.description}\n  Browser        ${chromium}`;
  console.log(banner);
  const turbo = (tasks: string[], redis: NodeJS.ProcessEnv) =>
    spawn(
      join(root, 'node_modules', '.bin', 'turbo'),
      ['run', ...tasks, '--continue', '--output-logs=full', '--log-order=grouped', ...process.argv.slice(3)],
      { cwd: root, stdio: 'inherit', env: { ...env, ...redis, MONGODB_URI: services.mongoUri } },
    );
  let running = turbo(
    // The root's lint task checks the whole tree at once: eslint (typed) and prettier.
    ['typecheck', '//#lint', 'test'],
    redisEnv(services.redisTarget),
  );
  let interrupted = false;
  onShutdownSignal(() => {
    interrupted = true;
    running.kill('SIGTERM');
  });
  let code = await waitForExit(running);
  if (!interrupted) {
    // The packages whose tests depend on how Redis is deployed run again on the cluster (their `test:cluster`).
    console.log(`\nThe Redis and worker tests again, on the ${cluster.description}:`);
    running = turbo(['test:cluster'], redisEnv(cluster.target));
    code = (await waitForExit(running)) || code;
  }
  await cluster.stop();
  await services.stop();

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures: string[] = [];
  for (const file of resultFiles()) {
    if (!existsSync(file)) continue;
    const report = JSON.parse(readFileSync(file, 'utf8')) as VitestJson;
    passed += report.numPassedTests;
    failed += report.numFailedTests;
    skipped += report.numPendingTests + report.numTodoTests;
    failures.push(...failureLines(report));
  }
  console.log(`\n${banner}`);
  if (failures.length > 0) console.log(`failed:\n${failures.join('\n')}`);
  console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  process.exit(code !== 0 || failed > 0 || passed === 0 ? code || 1 : 0);
}

async function services(): Promise<void> {
  const dataDir = process.env.JOURNEY_DATA_DIR ?? join(root, '.data');
  const running = await provideServices({ log: consoleLog, dataDir });
  const redis = Object.entries(redisEnv(running.redisTarget)).map(([name, value]) => `${name}=${value}`);
  console.log(`${redis.join('\n')}\nMONGODB_URI=${running.mongoUri}\n(${running.redis}; ${running.mongo}) Ctrl-C stops them.`);
  onShutdownSignal(() => void running.stop().then(() => process.exit(0)));
}

const commands: Record<string, () => Promise<void>> = { start, test, services };
const command = commands[process.argv[2] ?? ''];
if (!command) {
  console.error(`usage: cli.js <${Object.keys(commands).join('|')}>`);
  process.exit(2);
}
command().catch((error: unknown) => {
  console.error(`\n${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
