import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on a loopback port in front of a real server, for fault tests: `cut()` drops every connection and
 * refuses new ones (the server seems down to whoever connects through the proxy), `restore()` lets them in again
 * on the same port. Nothing is mocked: clients speak the real protocol to the real server through it.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private portNumber = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  /** A proxy for the host and port of `url` (e.g. a MongoDB or Redis URL), listening on a free port. */
  static async forUrl(url: string): Promise<TcpProxy> {
    const parsed = new URL(url);
    const proxy = new TcpProxy({ host: parsed.hostname, port: Number(parsed.port) });
    await proxy.restore();
    return proxy;
  }

  get port(): number {
    return this.portNumber;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.portNumber);
    return parsed.toString();
  }

  /** Drops every open connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again (on the same port once it had one). */
  async restore(): Promise<void> {
    if (this.server) return;
    const server = createServer((client) => {
      const upstream = connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.portNumber, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    this.portNumber = typeof address === 'object' && address ? address.port : this.portNumber;
    this.server = server;
  }

  async close(): Promise<void> {
    await this.cut();
  }
}
