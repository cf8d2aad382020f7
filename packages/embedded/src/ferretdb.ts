import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceLog } from './service-log.js';
import { cacheDir } from './cache-dir.js';
import { run, which } from './process.js';

/** Pinned: the last FerretDB line with the embedded SQLite backend (v2 needs PostgreSQL + DocumentDB). */
export const FERRETDB_VERSION = 'v1.24.0';
const MODULE = 'github.com/FerretDB/FerretDB';

function goBinary(): string | undefined {
  return which('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
}

function ferretBinaryPath(): string {
  return join(cacheDir('ferretdb', FERRETDB_VERSION), 'ferretdb');
}

function works(binary: string): boolean {
  return existsSync(binary) && spawnSync(binary, ['--version'], { encoding: 'utf8' }).status === 0;
}

/** Serializes concurrent builds (two test runs starting at once) with an atomic mkdir lock. */
async function withBuildLock<T>(dir: string, fn: () => T): Promise<T> {
  const lock = join(dir, '.build-lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than the longest build is left over from a killed process.
      if (existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 10 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for the FerretDB build lock ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * Returns a FerretDB binary, building it once from the Go module proxy into the cache.
 * `go install module@version` cannot be used: the proxy here refuses the module's version list, which
 * `go install` reads to check deprecation. A throw-away module that requires the pinned version builds it.
 * FerretDB embeds build/version/version.txt, which the module zip lacks, so the source is copied and it is written.
 */
export async function ensureFerretDb(log: ServiceLog): Promise<string> {
  const binary = process.env.FERRETDB_BIN ?? ferretBinaryPath();
  if (works(binary)) return binary;
  const go = goBinary();
  if (!go) {
    throw new Error('FerretDB must be built from source but Go (1.22 or later) is not installed; install Go or set MONGODB_URI to a running MongoDB.');
  }
  const dir = cacheDir('ferretdb', FERRETDB_VERSION);
  return withBuildLock(dir, () => {
    if (works(binary)) return binary;
    log.info(`building FerretDB ${FERRETDB_VERSION} from the Go module proxy (once, about two minutes)`);
    const build = join(dir, 'build');
    rmSync(build, { recursive: true, force: true });
    mkdirSync(build, { recursive: true });
    const env = { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', CGO_ENABLED: '0' };
    writeFileSync(join(build, 'go.mod'), `module journeyengine/ferretdb\n\ngo 1.22\n\nrequire ${MODULE} ${FERRETDB_VERSION}\n`);
    writeFileSync(join(build, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport _ "${MODULE}/cmd/ferretdb"\n`);
    run(go, ['mod', 'tidy'], { cwd: build, env, what: 'go mod tidy (FerretDB dependencies)' });
    const moduleDir = run(go, ['list', '-m', '-f', '{{.Dir}}', MODULE], { cwd: build, env, what: 'go list FerretDB' }).trim();
    const source = join(build, 'src');
    cpSync(moduleDir, source, { recursive: true });
    chmodSync(source, 0o755);
    spawnSync('chmod', ['-R', 'u+w', source]);
    writeFileSync(join(source, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    run(go, ['mod', 'edit', `-replace=${MODULE}=./src`], { cwd: build, env, what: 'go mod edit' });
    const out = `${binary}.tmp`;
    run(go, ['build', '-trimpath', '-o', out, `${MODULE}/cmd/ferretdb`], { cwd: build, env, what: 'go build FerretDB' });
    renameSync(out, binary);
    rmSync(source, { recursive: true, force: true });
    log.info('FerretDB built', { binary });
    return binary;
  });
}
