import { connect, createServer, type Socket } from 'node:net';

export interface CuttableProxy {
  /** The loopback port that forwards to the real server while the proxy is up. */
  port: number;
  /**
   * The server goes away: every open connection is cut and the port refuses new ones, as when the server's
   * process or host is down. Clients see their own drivers' errors; nothing is mocked.
   */
  cut(): Promise<void>;
}

/** A TCP proxy in front of a real server (`host:port` of a redis:// or mongodb:// URL), for outage tests. */
export async function cuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A cut connection errors on both ends; the proxy has nothing more to do with it.
    socket.on('error', () => socket.destroy());
  };
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no TCP port');
  return {
    port: address.port,
    cut: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
