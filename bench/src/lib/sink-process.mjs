// The benchmarks' webhook receiver, in a process of its own so that receiving does not take CPU from the engine it
// measures. Answers 200 to every POST and records each arrival (epoch ms) and, with argv[2] === 'keys', the count per
// Idempotency-Key. The parent (lib/sink.ts) asks over IPC; replies carry the request's `id`.
import { createServer } from 'node:http';

const countKeys = process.argv[2] === 'keys';
let arrivals = new Float64Array(1 << 16);
let received = 0;
const keys = new Map();

const server = createServer((request, response) => {
  const key = request.headers['idempotency-key'];
  if (countKeys && typeof key === 'string') keys.set(key, (keys.get(key) ?? 0) + 1);
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

const answers = {
  count: () => received,
  arrivals: () => arrivals.slice(0, received),
  keyCounts: () => [...keys.values()],
  reset: () => {
    received = 0;
    keys.clear();
    return null;
  },
};

process.on('message', ({ id, ask }) => process.send({ id, value: answers[ask]() }));
process.on('disconnect', () => process.exit(0));
server.listen(0, '127.0.0.1', () => process.send({ id: 0, value: server.address().port }));
