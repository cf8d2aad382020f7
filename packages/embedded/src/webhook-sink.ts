import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SinkRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The connection it came on (numbered from 1 in the order they opened): one client process's connections are its own. */
  connection: number;
}

/** A response; `afterMs` makes the receiver take that long (real time) before it answers. */
export interface SinkResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  afterMs?: number;
}

/** How the sink answers one request: a response, or `hold` to keep it open until `releaseHeld` (or the client gives up). */
export type SinkReply = SinkResponse | 'hold';

/**
 * A real HTTP receiver on 127.0.0.1: records every request (headers and body) and answers through `reply`, which
 * sees the request and its 0-based index. Counts requests in flight, and the most ever in flight at once.
 */
export class WebhookSink {
  readonly requests: SinkRequest[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** When each connection closed (epoch ms), by number: a killed client's connections close when it dies. */
  readonly connectionClosedAt = new Map<number, number>();
  private readonly held: ServerResponse[] = [];
  private server: Server | undefined;
  private port = 0;
  private connections = 0;
  private readonly connectionOf = new WeakMap<object, number>();

  constructor(public reply: (request: SinkRequest, index: number) => SinkReply = () => ({ status: 200 })) {}

  /** Listens on `port` (0: any free one). */
  async listen(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      res.on('close', () => this.inFlight--);
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const connection = this.connectionOf.get(req.socket) ?? 0;
        const request: SinkRequest = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          connection,
        };
        const index = this.requests.push(request) - 1;
        const reply = this.reply(request, index);
        if (reply === 'hold') this.held.push(res);
        else if (reply.afterMs) setTimeout(() => respond(res, reply), reply.afterMs);
        else respond(res, reply);
      });
    });
    server.on('connection', (socket) => {
      const number = ++this.connections;
      this.connectionOf.set(socket, number);
      socket.on('close', () => this.connectionClosedAt.set(number, Date.now()));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Answers every request held so far. */
  releaseHeld(reply: SinkResponse = { status: 200 }): number {
    const held = this.held.splice(0);
    for (const res of held) respond(res, reply);
    return held.length;
  }

  bodies(): unknown[] {
    return this.requests.map((request) => JSON.parse(request.body) as unknown);
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.held.splice(0);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function respond(res: ServerResponse, reply: SinkResponse): void {
  if (res.destroyed) return;
  res.writeHead(reply.status, reply.headers);
  res.end(reply.body ?? '');
}
