import { fork } from 'node:child_process';

export interface LoadInput {
  url: string;
  authorization: string;
  /** Events per request: 1 posts a bare event, more post `{ events: [...] }`. */
  perRequest: number;
  connections: number;
  seconds: number;
  /** Keeps the event ids of different runs apart. */
  idPrefix: string;
}

export interface LoadOutput {
  ok: number;
  notOk: number;
  seconds: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load process used in all (user + system). */
  cpuMs: number;
}

/** One autocannon load on POST /v1/events, run in a child process (load-worker.mjs). */
export async function postEventsLoad(input: LoadInput): Promise<LoadOutput> {
  const child = fork(new URL('./load-worker.mjs', import.meta.url), [JSON.stringify(input)], { stdio: 'inherit', execArgv: [] });
  try {
    return await new Promise<LoadOutput>((resolve, reject) => {
      child.once('message', (message) => resolve(message as LoadOutput));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`load process exited with ${code} before reporting`)));
    });
  } finally {
    child.kill();
  }
}
