import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ServiceLog } from './service-log.js';
import { cacheDir } from './cache-dir.js';
import { run, which } from './process.js';

/** Pinned: the last FerretDB line with the embedded SQLite backend (v2 needs PostgreSQL + DocumentDB). */
export const FERRETDB_VERSION = 'v1.24.0';
const MODULE = 'github.com/FerretDB/FerretDB';

interface SourcePatch {
  file: string;
  from: string;
  to: string;
  /** How often `from` occurs: a patch that finds another count is refused, not half applied. */
  occurrences: number;
}

/**
 * Seven changes to v1.24.0. The first three, in its SQLite backend, find documents by `_id` through its index instead
 * of by decoding the whole collection (measured at 20,000 documents: updateOne by `_id` 50 ms -> 1.2 ms; updateOne by
 * `{ _id, token, status }` 510 ms -> 1.3 ms). Slow writes also held SQLite's write lock long enough for queued
 * writers to fail with SQLITE_BUSY.
 * 1. The `_id` index is created on `_ferretdb_sjson->"_id"` but looked up with `_ferretdb_sjson->'$._id'`; SQLite
 *    matches index expressions by their text, so no lookup used it. The lookup is spelled like the index.
 * 2. Only a filter of exactly one key, `{ _id: value }`, was pushed down. Any filter holding `_id: value` is now:
 *    the backend contract lets a pushdown apply a filter partially, and the handler filters every document again.
 * 3. `{ _id: { $in: [...] } }` (up to 1,000 string or ObjectID ids) is pushed down as `_id IN (...)`: batch reads by
 *    key. (Measured with 20,000 documents: a find of 50 ids 414 ms -> 3.7 ms, median of 7.)
 * 4. An update command closed each statement's query (a pooled SQLite connection) only when the whole command ended,
 *    so a few concurrent bulk writes of 50 held all 100 connections and waited on each other for ever. Each statement's
 *    query is now closed once its update is done (closing twice is harmless).
 * 5. An update command wrote each statement's document in a SQLite transaction of its own. Statements that target one
 *    document by a scalar `_id` (every statement of a dispatch commit) now have their documents written together, in
 *    one transaction, when the command ends: one writer-lock turn and one commit for a bulk instead of one per
 *    statement. A statement that might read what an earlier one wrote (the same `_id`, no scalar `_id`, or `multi`)
 *    first writes what is pending, so every statement still reads what the ones before it wrote. When every statement
 *    of a command targets a different document by a scalar `_id`, their documents are also read in one query.
 *    (ferretdb/update_batching.go)
 * 6. update, findAndModify and delete read, check and write back with no lock across the three, so two conditional
 *    writes to one document could both land (and an `$inc` be lost). They now lock the documents they name by a scalar
 *    `_id`, or else their collection, for that span: MongoDB's single-document atomicity, on which the engine's
 *    conditional commits rely. (ferretdb/write_locks.go)
 * 7. SQLite's write-ahead log file never shrank: SQLite starts the log over once a checkpoint caught up and no reader
 *    is behind, but keeps the file at its largest (407 MB after a million-user dispatch, 4.7 GB once), and under
 *    steady reads that moment is rare. Each database's log is now truncated every 5 s by a checkpoint that waits at
 *    most 50 ms for readers of older snapshots. (ferretdb/wal_checkpoint.go)
 */
const SOURCE_PATCHES: readonly SourcePatch[] = [
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    from: `IDColumn = DefaultColumn + "->'$._id'"`,
    to: 'IDColumn = DefaultColumn + `->"_id"`',
    occurrences: 1,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: 'if params.Filter.Len() == 1 {',
    to: 'if params.Filter.Len() >= 1 {',
    occurrences: 2,
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: [
      '\t\tswitch v.(type) {',
      '\t\tcase string, types.ObjectID:',
      '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
      '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
      '\t\t}',
    ].join('\n'),
    to: [
      '\t\tswitch v := v.(type) {',
      '\t\tcase string, types.ObjectID:',
      '\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)',
      '\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}',
      '\t\tcase *types.Document:',
      '\t\t\tif in, err := v.Get("$in"); err == nil && v.Len() == 1 {',
      '\t\t\t\tif ids, ok := in.(*types.Array); ok && ids.Len() > 0 && ids.Len() <= 1000 {',
      '\t\t\t\t\tscalar := true',
      '\t\t\t\t\tinArgs := make([]any, 0, ids.Len())',
      '\t\t\t\t\tfor i := 0; i < ids.Len() && scalar; i++ {',
      '\t\t\t\t\t\tid := must.NotFail(ids.Get(i))',
      '\t\t\t\t\t\tswitch id.(type) {',
      '\t\t\t\t\t\tcase string, types.ObjectID:',
      '\t\t\t\t\t\t\tinArgs = append(inArgs, string(must.NotFail(sjson.MarshalSingleValue(id))))',
      '\t\t\t\t\t\tdefault:',
      '\t\t\t\t\t\t\tscalar = false',
      '\t\t\t\t\t\t}',
      '\t\t\t\t\t}',
      '\t\t\t\t\tif scalar {',
      '\t\t\t\t\t\twhereClause = fmt.Sprintf(` WHERE %s IN (?%s)`, metadata.IDColumn, strings.Repeat(", ?", len(inArgs)-1))',
      '\t\t\t\t\t\targs = inArgs',
      '\t\t\t\t\t}',
      '\t\t\t\t}',
      '\t\t\t}',
      '\t\t}',
    ].join('\n'),
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: 'result, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n',
    to: 'result, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n\t\tcloser.Close()\n',
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: 'func (h *Handler) updateDocument(ctx context.Context, params *common.UpdateParams) (int32, int32, *types.Array, error) {\n',
    to: [
      'func (h *Handler) updateDocument(ctx context.Context, params *common.UpdateParams) (int32, int32, *types.Array, error) {',
      '\tdeferred := &deferredUpdates{ids: map[string]struct{}{}}',
      '',
    ].join('\n'),
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: '\tfor _, u := range params.Updates {\n',
    to: [
      '\tdefer lockUpdates(params)()',
      '',
      '\tif !h.DisablePushdown {',
      '\t\tif pc, pcErr := db.Collection(params.Collection); pcErr == nil {',
      '\t\t\tif err = deferred.prefetch(ctx, pc, params.Updates); err != nil {',
      '\t\t\t\treturn 0, 0, nil, lazyerrors.Error(err)',
      '\t\t\t}',
      '\t\t}',
      '\t}',
      '',
      '\tfor _, u := range params.Updates {',
      '',
    ].join('\n'),
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: '\t\tvar qp backends.QueryParams\n',
    to: [
      '\t\tvar target backends.Collection = c',
      '\t\tif deferred.deferrable(&u) {',
      '\t\t\tdeferred.Collection = c',
      '\t\t\ttarget = deferred',
      '\t\t} else if err = deferred.flush(ctx); err != nil {',
      '\t\t\treturn 0, 0, nil, lazyerrors.Error(err)',
      '\t\t}',
      '',
      '\t\tvar qp backends.QueryParams',
      '',
    ].join('\n'),
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: '\t\tres, err := c.Query(ctx, &qp)\n',
    to: '\t\tres, err := deferred.query(ctx, c, &u, &qp)\n',
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: 'result, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n\t\tcloser.Close()\n',
    to: 'result, err := common.UpdateDocument(ctx, target, "update", iter, &u)\n\t\tcloser.Close()\n',
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_update.go',
    from: '\treturn matched, modified, &upserted, nil\n',
    to: '\tif err = deferred.flush(ctx); err != nil {\n\t\treturn 0, 0, nil, lazyerrors.Error(err)\n\t}\n\n\treturn matched, modified, &upserted, nil\n',
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_findandmodify.go',
    from: '\tvar qp backends.QueryParams\n\tif !h.DisablePushdown {\n\t\tqp.Filter = params.Query\n',
    to: '\tdefer lockFilter(params.DB, params.Collection, params.Query)()\n\n\tvar qp backends.QueryParams\n\tif !h.DisablePushdown {\n\t\tqp.Filter = params.Query\n',
    occurrences: 1,
  },
  {
    file: 'internal/backends/sqlite/metadata/pool/opendb.go',
    from: '\treturn fsql.WrapDB(db, name, l), nil\n',
    to: '\tif !memory {\n\t\tgo checkpointWAL(db, uri, name, l)\n\t}\n\n\treturn fsql.WrapDB(db, name, l), nil\n',
    occurrences: 1,
  },
  {
    file: 'internal/handler/msg_delete.go',
    from: '\t\td, err = h.execDelete(connCtx, c, &p)\n',
    to: '\t\tunlock := lockFilter(params.DB, params.Collection, p.Filter)\n\t\td, err = h.execDelete(connCtx, c, &p)\n\t\tunlock()\n',
    occurrences: 1,
  },
];

/** Go files added to FerretDB's packages (from packages/embedded/ferretdb): the code the patches call. */
const SOURCE_FILES: readonly { file: string; into: string }[] = [
  { file: 'update_batching.go', into: 'internal/handler' },
  { file: 'write_locks.go', into: 'internal/handler' },
  { file: 'wal_checkpoint.go', into: 'internal/backends/sqlite/metadata/pool' },
];
const SOURCE_FILES_DIR = fileURLToPath(new URL('../ferretdb/', import.meta.url));

/** Part of the cache path: a binary built with other patches is never reused. */
const PATCH_LEVEL = 'p9';

export const FERRETDB_BUILD = `${FERRETDB_VERSION}-${PATCH_LEVEL}`;

function applyPatches(source: string): void {
  for (const patch of SOURCE_PATCHES) {
    const path = join(source, patch.file);
    const text = readFileSync(path, 'utf8');
    const found = text.split(patch.from).length - 1;
    if (found !== patch.occurrences) {
      throw new Error(`FerretDB ${FERRETDB_VERSION} source patch does not apply: ${patch.file} holds ${patch.from} ${found} times, not ${patch.occurrences}`);
    }
    writeFileSync(path, text.replaceAll(patch.from, patch.to));
  }
  for (const { file, into } of SOURCE_FILES) cpSync(join(SOURCE_FILES_DIR, file), join(source, into, `journey_${file}`));
}

/** The machine's Go toolchain, which FerretDB is built with; undefined when there is none. */
export function goBinary(): string | undefined {
  return which('go', ['/usr/local/go/bin', '/usr/lib/go/bin']);
}

function ferretBinaryPath(): string {
  return join(cacheDir('ferretdb', FERRETDB_BUILD), 'ferretdb');
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

/** The FerretDB binary to run, and how the services' output names it. */
export interface FerretDbBinary {
  path: string;
  label: string;
}

/**
 * Returns a FerretDB binary (FERRETDB_BIN when set), building it once from the Go module proxy into the cache.
 * `go install module@version` cannot be used: the proxy here refuses the module's version list, which
 * `go install` reads to check deprecation. A throw-away module that requires the pinned version builds it.
 * FerretDB embeds build/version/version.txt, which the module zip lacks, so the source is copied, it is written, and
 * SOURCE_PATCHES are applied.
 */
export async function ensureFerretDb(log: ServiceLog): Promise<FerretDbBinary> {
  const given = process.env.FERRETDB_BIN;
  // A given binary (an older build, to compare) is named as such, not as the build this code makes.
  const label = given === undefined ? `${FERRETDB_BUILD} (v1.24.0 with the patches of docs/embedded-mongodb.md)` : `from FERRETDB_BIN=${given}`;
  const path = await ensureBinary(log, given ?? ferretBinaryPath());
  return { path, label };
}

async function ensureBinary(log: ServiceLog, binary: string): Promise<string> {
  if (works(binary)) return binary;
  const go = goBinary();
  if (!go) {
    throw new Error('FerretDB must be built from source but Go (1.22 or later) is not installed; install Go or set MONGODB_URI to a running MongoDB.');
  }
  const dir = cacheDir('ferretdb', FERRETDB_BUILD);
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
    applyPatches(source);
    run(go, ['mod', 'edit', `-replace=${MODULE}=./src`], { cwd: build, env, what: 'go mod edit' });
    const out = `${binary}.tmp`;
    run(go, ['build', '-trimpath', '-o', out, `${MODULE}/cmd/ferretdb`], { cwd: build, env, what: 'go build FerretDB' });
    renameSync(out, binary);
    rmSync(source, { recursive: true, force: true });
    log.info('FerretDB built', { binary });
    return binary;
  });
}
