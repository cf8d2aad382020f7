// Shared by `npm start` and `npm test` on a fresh clone: only Node.js built-ins may be used here,
// because nothing is installed yet. It brings pnpm (through corepack, pinned by packageManager),
// installs the workspace, builds what the command needs and hands over to the engine's CLI.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = dirname(dirname(fileURLToPath(import.meta.url)));
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const pnpmVersion = manifest.packageManager.split('@')[1];
const cache = process.env.JOURNEY_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'journey-engine');

function say(message) {
  console.log(`[bootstrap] ${message}`);
}

function fail(message) {
  console.error(`[bootstrap] ${message}`);
  process.exit(1);
}

function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  const ok = (major === 20 && minor >= 19) || (major === 22 && minor >= 12) || major >= 24;
  if (!ok) fail(`Node.js ${process.versions.node} is too old: the engine needs ${manifest.engines.node}.`);
}

function tryRun(command, args, env) {
  return spawnSync(command, args, { cwd: root, env, encoding: 'utf8' });
}

/** A directory with a `pnpm` of the pinned version, put first on PATH for everything started later. */
function ensurePnpm() {
  const shimDir = join(cache, 'bin');
  const env = { ...process.env, COREPACK_ENABLE_DOWNLOAD_PROMPT: '0', PATH: `${shimDir}${delimiter}${process.env.PATH}` };
  const version = () => tryRun('pnpm', ['--version'], env).stdout?.trim();
  if (version() === pnpmVersion) return env;

  mkdirSync(shimDir, { recursive: true });
  const corepack = tryRun('corepack', ['enable', '--install-directory', shimDir, 'pnpm'], env);
  if (corepack.error || corepack.status !== 0) {
    // Node.js 25+ no longer bundles corepack: install the pinned pnpm into the cache with npm instead.
    say(`corepack is unavailable; installing pnpm ${pnpmVersion} into ${cache} with npm`);
    const npm = tryRun('npm', ['install', '--prefix', join(cache, 'pnpm'), '--no-save', `pnpm@${pnpmVersion}`], env);
    if (npm.status !== 0) fail(`could not install pnpm ${pnpmVersion}:\n${npm.stderr}`);
    const bin = join(cache, 'pnpm', 'node_modules', '.bin');
    env.PATH = `${bin}${delimiter}${env.PATH}`;
    if (version() !== pnpmVersion) fail(`pnpm ${pnpmVersion} was installed but does not run`);
    return env;
  }
  let got = tryRun('pnpm', ['--version'], env);
  if (got.status !== 0 && /signature/i.test(got.stderr ?? '')) {
    // Some registry mirrors serve package metadata without the signatures corepack checks.
    say('corepack could not verify the pnpm download signature with this registry; retrying without signature verification');
    env.COREPACK_INTEGRITY_KEYS = '0';
    got = tryRun('pnpm', ['--version'], env);
  }
  if (got.status !== 0 || got.stdout.trim() !== pnpmVersion) fail(`corepack could not provide pnpm ${pnpmVersion}:\n${got.stderr}`);
  return env;
}

function step(env, what, args) {
  say(what);
  const result = spawnSync('pnpm', args, { cwd: root, env, stdio: 'inherit' });
  if (result.status !== 0) fail(`${what} failed`);
}

/** Everything up to the CLI: returns the environment (PATH with pnpm) the CLI runs in. */
export function bootstrap({ buildFilter } = {}) {
  checkNode();
  const env = ensurePnpm();
  step(env, 'installing dependencies (pnpm install)', ['install', '--frozen-lockfile', '--prefer-offline', '--reporter=silent']);
  const filter = buildFilter ? [`--filter=${buildFilter}`] : [];
  step(env, `building ${buildFilter ?? 'the workspace'} (turbo, cached)`, [
    'exec',
    'turbo',
    'run',
    'build',
    ...filter,
    '--output-logs=errors-only',
  ]);
  return env;
}

/** Runs the engine CLI and exits with its code; SIGINT / SIGTERM are passed on so it can stop cleanly. */
export function runCli(env, command) {
  const cli = join(root, 'packages', 'embedded', 'dist', 'cli.js');
  if (!existsSync(cli)) fail(`the build did not produce ${cli}`);
  const child = spawn(process.execPath, [cli, command, ...process.argv.slice(2)], { cwd: root, env, stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
