import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const workerDir = fileURLToPath(new URL('../../../apps/worker', import.meta.url));

export interface WorkerProcesses {
  pids: number[];
  /** Warnings and errors the workers logged (by message), for the report. */
  problems: Map<string, number>;
  stop(): Promise<void>;
}

/**
 * `count` worker processes as `npm start` runs them (apps/worker's main from source, through tsx), with `env` on top of
 * this process's environment minus its Redis variables; resolves once each logged "worker ready".
 */
export async function startWorkerProcesses(count: number, env: Record<string, string>, timeoutMs = 120_000): Promise<WorkerProcesses> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name !== 'REDIS_URL' && name !== 'REDIS_CLUSTER_NODES'),
  );
  const problems = new Map<string, number>();
  const children: ChildProcess[] = [];
  const ready = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--conditions=@journey/source', '--import', 'tsx', 'src/main.ts'], {
      cwd: workerDir,
      env: { ...inherited, LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`a worker process was not ready within ${timeoutMs} ms`)), timeoutMs);
      child.once('exit', (code) => reject(new Error(`a worker process exited with code ${code} before it was ready`)));
      let buffered = '';
      const onData = (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        const lines = buffered.split('\n');
        buffered = lines.pop() ?? '';
        for (const line of lines) {
          let entry: { level?: number; msg?: string } | undefined;
          try {
            entry = JSON.parse(line) as typeof entry;
          } catch {
            entry = undefined;
          }
          if (entry?.msg === 'worker ready') {
            clearTimeout(timer);
            resolve();
          } else if (line.trim() !== '' && (!entry || (entry.level ?? 0) >= 40)) {
            const what = (entry?.msg ?? line).slice(0, 120);
            problems.set(what, (problems.get(what) ?? 0) + 1);
          }
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
    });
  });
  const stop = async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 15_000).unref();
          }),
      ),
    );
  };
  process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));
  try {
    await Promise.all(ready);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pids: children.map((child) => child.pid ?? 0), problems, stop };
}
