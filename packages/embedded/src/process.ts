import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { delimiter, join } from 'node:path';

/** A free TCP port on loopback, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The absolute path of an executable found on PATH or in the extra directories, or undefined. */
export function which(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...extraDirs].filter(Boolean);
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Runs a command to completion, throwing with its output when it fails. */
export function run(command: string, args: string[], options: SpawnOptions & { what: string }): string {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) throw new Error(`${options.what}: ${result.error.message}`);
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new Error(`${options.what} failed (exit ${result.status}):\n${output}`);
  }
  return String(result.stdout ?? '');
}

export interface Daemon {
  readonly child: ChildProcess;
  /** SIGTERM, then SIGKILL after the grace period; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<ChildProcess>();
// Last resort: whatever way this process ends, it does not leave servers behind.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a long-running server process whose output goes to a log file. It gets its own process group, so a
 * Ctrl-C reaches only the CLI, which stops the apps first and the servers last.
 */
export function startDaemon(command: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): Daemon {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env, detached: true });
  running.add(child);
  child.once('exit', () => running.delete(child));
  // Both streams feed one file: it ends once both have closed ('close'), not when either ends, nor at 'exit'
  // (a server's last lines may still be in the pipes then).
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    async stop(graceMs = 5_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Polls until `probe` resolves true, failing with `what` after the timeout or when the daemon exits. */
export async function waitUntil(
  probe: () => Promise<boolean>,
  options: { what: string; timeoutMs: number; daemon?: Daemon; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (options.daemon && options.daemon.child.exitCode !== null) {
      throw new Error(
        `${options.what}: the process exited with code ${options.daemon.child.exitCode}; see ${options.logFile ?? 'its log'}`,
      );
    }
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`${options.what}: not ready after ${options.timeoutMs} ms; see ${options.logFile ?? 'its log'}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Sends one raw line to a TCP server and resolves with the first chunk it answers. */
export function tcpAsk(port: number, line: string, timeoutMs = 1_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('timeout'));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.connect(port, '127.0.0.1', () => socket.write(line));
    socket.once('data', (data) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data.toString('utf8'));
    });
  });
}
