import { fork, type ChildProcess } from 'node:child_process';

/** The webhook receiver of the benchmarks (sink-process.mjs, a process of its own): answers 200 to every POST. */
export interface Sink {
  url: string;
  /** Requests received so far. */
  count(): Promise<number>;
  /** Arrival time (epoch ms, sub-millisecond) of every request, in arrival order. */
  arrivals(): Promise<Float64Array>;
  /** How many requests each `Idempotency-Key` (one key per message) had, when started with `countKeys`. */
  keyCounts(): Promise<number[]>;
  /** Forgets what was received (between designs). */
  reset(): Promise<void>;
  close(): Promise<void>;
}

type Ask = 'count' | 'arrivals' | 'keyCounts' | 'reset';

export async function startSink(options: { countKeys?: boolean } = {}): Promise<Sink> {
  // `advanced` serialization sends the arrivals as a typed array, not as JSON.
  const child: ChildProcess = fork(new URL('./sink-process.mjs', import.meta.url), options.countKeys ? ['keys'] : [], {
    stdio: 'inherit',
    execArgv: [],
    serialization: 'advanced',
  });
  const waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let nextId = 1;
  const exited = (code: number | null) => {
    for (const { reject } of waiting.values()) reject(new Error(`the sink process exited with ${code}`));
    waiting.clear();
  };
  child.on('exit', exited);
  child.on('message', (message) => {
    const { id, value } = message as { id: number; value: unknown };
    waiting.get(id)?.resolve(value);
    waiting.delete(id);
  });

  function ask<T>(question: Ask | 'port', id = nextId++): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (question !== 'port') child.send({ id, ask: question });
    });
  }

  const port = await ask<number>('port', 0);
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => ask<number>('count'),
    arrivals: () => ask<Float64Array>('arrivals'),
    keyCounts: () => ask<number[]>('keyCounts'),
    reset: () => ask<void>('reset'),
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await gone;
    },
  };
}
