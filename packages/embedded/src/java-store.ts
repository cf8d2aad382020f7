import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { aptInstall, SYSTEM_DIRS } from './apt.js';
import { withBuildLock } from './build-lock.js';
import { cacheDir } from './cache-dir.js';
import { freePort, run, startDaemon, waitUntil, which, type Daemon } from './process.js';
import type { ServiceLog } from './service-log.js';

/** Our launcher's Maven project: mongo-java-server from Maven Central plus the classes that extend it. */
const PROJECT_DIR = fileURLToPath(new URL('../java/', import.meta.url));

/** The mongo-java-server release the pom pins, for the server's label. */
export function mongoJavaServerVersion(): string {
  return /<mongo-java-server\.version>([^<]+)</.exec(readFileSync(join(PROJECT_DIR, 'pom.xml'), 'utf8'))?.[1] ?? 'unknown';
}

function projectFiles(dir = PROJECT_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.name !== 'target')
    .flatMap((entry) => (entry.isDirectory() ? projectFiles(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/** Part of the cache path: a build of other sources or another pom is never reused. */
function buildId(): string {
  const hash = createHash('sha256');
  for (const file of projectFiles()) hash.update(relative(PROJECT_DIR, file)).update('\0').update(readFileSync(file)).update('\0');
  return `mongo-java-server-${mongoJavaServerVersion()}-${hash.digest('hex').slice(0, 12)}`;
}

/**
 * The launcher's classpath, building it once into the cache with the machine's Maven (`mvn -q -B package`, the
 * dependencies from Maven Central into a repository inside the cache). Later runs find the build and start at once.
 */
async function ensureBuilt(log: ServiceLog): Promise<string> {
  const dir = cacheDir('journey-store', buildId());
  const built = join(dir, 'classpath');
  if (existsSync(built)) return readFileSync(built, 'utf8');
  if (!which('mvn', SYSTEM_DIRS) || !which('javac', SYSTEM_DIRS)) {
    aptInstall(['default-jdk-headless', 'maven'], {
      log,
      missing: 'the embedded MongoDB-protocol store is built with Maven and a JDK, which are not installed',
      otherwise: 'Install Maven and a JDK 17 or later, or set MONGODB_URI to a running MongoDB.',
    });
  }
  const mvn = which('mvn', SYSTEM_DIRS);
  if (!mvn) throw new Error('apt-get installed maven but no mvn binary was found on PATH');
  return withBuildLock(dir, 'embedded store', () => {
    if (existsSync(built)) return readFileSync(built, 'utf8');
    log.info(`building the embedded store (mongo-java-server ${mongoJavaServerVersion()} and our launcher) with Maven, once`);
    const build = join(dir, 'build');
    rmSync(build, { recursive: true, force: true });
    for (const file of projectFiles()) cpSync(file, join(build, relative(PROJECT_DIR, file)));
    run(mvn, ['-q', '-B', '-Dstyle.color=never', `-Dmaven.repo.local=${cacheDir('maven-repository')}`, 'package'], {
      cwd: build,
      what: 'mvn package (embedded store)',
    });
    const target = join(dir, 'target');
    rmSync(target, { recursive: true, force: true });
    renameSync(join(build, 'target'), target);
    rmSync(build, { recursive: true, force: true });
    const classpath = [join(target, 'journey-store-1.jar'), join(target, 'lib', '*')].join(delimiter);
    writeFileSync(built, classpath);
    return classpath;
  });
}

export interface JavaStore {
  uri: string;
  port: number;
  /** e.g. "mongo-java-server 1.47.0, H2 MVStore file, reporting MongoDB 5.0.0". */
  server: string;
  daemon: Daemon;
  stop(): Promise<void>;
}

/**
 * Starts the store on a free loopback port (or `port`: a fault test restarts a store where its clients expect it):
 * with `persistent` on an H2 MVStore file under `dataDir` (an acknowledged write is in the file), otherwise in
 * memory. See docs/embedded-mongodb.md.
 */
export async function startJavaStore(options: {
  log: ServiceLog;
  dataDir: string;
  persistent: boolean;
  port?: number;
  /** `library`: the memory backend as released, without our indexes, for the store benchmark's comparison. */
  indexes?: 'ours' | 'library';
}): Promise<JavaStore> {
  const classpath = await ensureBuilt(options.log);
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : which('java', SYSTEM_DIRS);
  if (!java) throw new Error('the embedded MongoDB-protocol store needs Java 17 or later (java on PATH or JAVA_HOME), or set MONGODB_URI.');
  if (options.persistent && options.indexes === 'library') throw new Error('the library-indexes comparison runs in memory only');
  const backend = options.persistent ? 'H2 MVStore file' : 'memory';
  const describe = `mongo-java-server ${mongoJavaServerVersion()}, ${backend}${options.indexes === 'library' ? ', library indexes only' : ''}`;
  const port = options.port ?? (await freePort());
  const storeDir = join(options.dataDir, 'journey-store');
  mkdirSync(storeDir, { recursive: true });
  const logFile = join(storeDir, 'store.log');
  const daemon = startDaemon(
    java,
    [
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-cp',
      classpath,
      'journey.store.Main',
      '--port',
      String(port),
      '--describe',
      describe,
      ...(options.persistent ? ['--backend', 'h2', '--file', join(storeDir, 'store.mv.db')] : ['--backend', 'memory']),
      ...(options.indexes === 'library' ? ['--indexes', 'library'] : []),
    ],
    logFile,
  );
  const uri = `mongodb://127.0.0.1:${port}/`;
  let version = 'unknown';
  await waitUntil(
    async () => {
      const client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
      try {
        version = String((await client.db('admin').command({ buildInfo: 1 })).version);
        return true;
      } finally {
        await client.close();
      }
    },
    { what: `the embedded store on port ${port}`, timeoutMs: 60_000, daemon, logFile },
  );
  options.log.info(`embedded store started (${describe})`, { port });
  return { uri, port, server: `${describe}, reporting MongoDB ${version}`, daemon, stop: () => daemon.stop(15_000) };
}
