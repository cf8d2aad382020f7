import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const workerDir = fileURLToPath(new URL('..', import.meta.url));
const guard = fileURLToPath(new URL('./fault-orphan-guard.ts', import.meta.url));

/** Log lines kept per worker for the failure report. */
const LOG_TAIL = 60;

/** What a fleet runs: worker processes (apps/worker) or API processes (apps/api). */
export type FleetApp = 'worker' | 'api';

export interface FleetWorker {
  /** 1, 2, 3...: in the order they were started. */
  id: number;
  child: ChildProcess;
  /** Logged "worker ready" (its processors run) or, an API, that it listens. */
  ready: boolean;
  startedAt: number;
  readyAt: number | null;
  /** Resolves once the process is gone. */
  exited: Promise<void>;
  tail: string[];
}

/**
 * Worker (or API) processes started from source (their `src/main.ts` through tsx, workspace packages resolved to their
 * source by the `@journey/source` condition), all with the same environment. Counts the warnings and errors they
 * log, by message, for the report.
 */
export class AppFleet {
  readonly workers: FleetWorker[] = [];
  readonly problems = new Map<string, number>();
  /** Set by dispose: nothing is started any more. */
  disposed = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly onExit = () => this.killAll();

  /** `logDir`: every worker's full log goes to `worker-<id>.log` there (for digging into a failed run). */
  constructor(
    settings: Record<string, string>,
    private readonly logDir?: string,
    private readonly app: FleetApp = 'worker',
  ) {
    // The test's own Redis is named in `settings`: the run's (REDIS_URL or REDIS_CLUSTER_NODES) must not linger beside it.
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([name]) => !name.startsWith('VITEST') && name !== 'REDIS_URL' && name !== 'REDIS_CLUSTER_NODES'),
    );
    this.env = { ...inherited, ...settings };
    // A test process that exits without its afterAll (a crash, a timeout) still takes its workers with it.
    process.once('exit', this.onExit);
  }

  /** Starts one more process; `settings` adds to (or overrides) the fleet's environment for it (an API's PORT). */
  start(settings: Record<string, string> = {}): FleetWorker {
    if (this.disposed) throw new Error('the fleet is disposed');
    const main = this.app === 'worker' ? 'src/main.ts' : '../api/src/main.ts';
    const child = spawn(process.execPath, ['--conditions=@journey/source', '--import', 'tsx', '--import', guard, main], {
      cwd: workerDir,
      env: { ...this.env, ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const worker: FleetWorker = {
      id: this.workers.length + 1,
      child,
      ready: false,
      startedAt: Date.now(),
      readyAt: null,
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
      tail: [],
    };
    const onLine = (line: string) => {
      if (line.trim() === '') return;
      if (this.logDir) appendFileSync(join(this.logDir, `${this.app}-${worker.id}.log`), `${line}\n`);
      worker.tail.push(line);
      if (worker.tail.length > LOG_TAIL) worker.tail.shift();
      let entry: { level?: number; msg?: string; err?: { message?: string } } | undefined;
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = undefined;
      }
      if (entry?.msg === 'worker ready' || entry?.msg?.startsWith('Server listening at ')) {
        worker.ready = true;
        worker.readyAt = Date.now();
      } else if (!entry || (entry.level ?? 0) >= 40) {
        const error = entry?.err?.message?.split('\n')[0]?.slice(0, 100);
        const what = entry ? `${entry.msg ?? ''}${error ? ` (${error})` : ''}` : line.slice(0, 120);
        this.problems.set(what, (this.problems.get(what) ?? 0) + 1);
      }
    };
    readLines(child.stdout, onLine);
    readLines(child.stderr, onLine);
    this.workers.push(worker);
    return worker;
  }

  alive(): FleetWorker[] {
    return this.workers.filter((worker) => worker.child.exitCode === null && worker.child.signalCode === null);
  }

  /** SIGKILL: the process dies at once, whatever it was doing. */
  async crash(worker: FleetWorker): Promise<void> {
    worker.child.kill('SIGKILL');
    await worker.exited;
  }

  /** SIGTERM to every live worker (they let active jobs finish), SIGKILL to any still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<{ clean: number; forced: number }> {
    const alive = this.alive();
    for (const worker of alive) worker.child.kill('SIGTERM');
    let forced = 0;
    await Promise.all(
      alive.map(async (worker) => {
        const timer = setTimeout(() => {
          forced++;
          worker.child.kill('SIGKILL');
        }, graceMs);
        await worker.exited;
        clearTimeout(timer);
      }),
    );
    return { clean: alive.length - forced, forced };
  }

  /** Synchronous, for afterAll and process exit: nothing started here survives. */
  killAll(): void {
    for (const worker of this.alive()) worker.child.kill('SIGKILL');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.killAll();
    await Promise.all(this.workers.map((worker) => worker.exited));
    process.removeListener('exit', this.onExit);
  }

  /** The last log lines of every worker, for a failure message. */
  tails(): string {
    return this.workers.map((worker) => `--- worker ${worker.id} (pid ${worker.child.pid})\n${worker.tail.join('\n')}`).join('\n');
  }
}

function readLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) onLine(line);
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
  });
}
