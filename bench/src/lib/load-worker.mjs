// Runs one autocannon load in a child process, so the load generator does not share the CPU time of the server's event
// loop (a worker thread would not do: autocannon switches to its own worker protocol there). The input is a LoadInput
// (lib/load.ts) as JSON in argv[2]; the result goes back as a LoadOutput over IPC. The request bodies are built here.
import autocannon from 'autocannon';

const input = JSON.parse(process.argv[2]);
let sequence = 0;
// Every request carries new event ids, so de-duplication never shortens the engine's work.
const event = () => {
  const n = sequence++;
  return { id: `${input.idPrefix}-${n}`, userId: `user-${n % 100_000}`, name: 'page_viewed', properties: { page: `/p/${n % 50}` } };
};
const request = {
  method: 'POST',
  path: '/v1/events',
  headers: { 'content-type': 'application/json', authorization: input.authorization },
  setupRequest: (req) => ({
    ...req,
    body: JSON.stringify(input.perRequest === 1 ? event() : { events: Array.from({ length: input.perRequest }, event) }),
  }),
};
const instance = autocannon(
  { url: input.url, connections: input.connections, duration: input.seconds, requests: [request] },
  (error, result) => {
    if (error) throw error;
    const { user, system } = process.cpuUsage();
    process.send({
      ok: result['2xx'],
      notOk: result.non2xx + result.errors + result.timeouts,
      seconds: result.duration,
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      // The load generator shares the machine's cores with the server and Redis: its CPU is part of the picture.
      cpuMs: (user + system) / 1000,
    });
  },
);
autocannon.track(instance, { renderProgressBar: true, renderResultsTable: false, renderLatencyTable: false });
