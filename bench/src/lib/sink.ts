import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The webhook receiver of the benchmarks: answers 200 to every POST, counts them and records when each arrived (epoch ms). */
export interface Sink {
  url: string;
  /** Requests received so far. */
  count(): number;
  /** Arrival time (epoch ms, sub-millisecond) of every request, in arrival order. */
  arrivals(): Float64Array;
  /** Requests per `Idempotency-Key` (one key per message), when started with `countKeys`. */
  keyCounts(): ReadonlyMap<string, number>;
  /** Forgets what was received (between designs). */
  reset(): void;
  close(): Promise<void>;
}

export async function startSink(capacity: number, options: { countKeys?: boolean } = {}): Promise<Sink> {
  let arrivals = new Float64Array(Math.max(16, capacity));
  let received = 0;
  const keys = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const key = request.headers['idempotency-key'];
    if (options.countKeys && typeof key === 'string') keys.set(key, (keys.get(key) ?? 0) + 1);
    request.resume();
    request.on('end', () => {
      // Arrival = the whole request is in; the clock is the same epoch the due second is measured in.
      const at = performance.timeOrigin + performance.now();
      if (received === arrivals.length) {
        const grown = new Float64Array(arrivals.length * 2);
        grown.set(arrivals);
        arrivals = grown;
      }
      arrivals[received++] = at;
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '2' });
      response.end('{}');
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    count: () => received,
    arrivals: () => arrivals.slice(0, received),
    keyCounts: () => keys,
    reset() {
      received = 0;
      keys.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
