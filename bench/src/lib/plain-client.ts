import { Agent, request } from 'undici';

/**
 * The punctuality ceiling: how long a plain HTTP client (undici, `connections` sockets, as many requests in flight)
 * needs to deliver `n` POSTs of `body` to `url`, each answered before the next goes out on its slot. Resolves with the ms.
 */
export async function deliverPlain(url: string, n: number, connections: number, body: string, timeoutMs: number): Promise<number> {
  const agent = new Agent({ connections });
  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < n) {
          if (performance.now() - started > timeoutMs) throw new Error(`plain client: not done after ${timeoutMs} ms`);
          next++;
          const response = await request(url, { dispatcher: agent, method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await response.body.dump();
          if (response.statusCode !== 200) throw new Error(`sink answered ${response.statusCode}`);
        }
      }),
    );
    return performance.now() - started;
  } finally {
    await agent.close();
  }
}
