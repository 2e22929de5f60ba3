/**
 * A TCP proxy in front of Azurite's table port that reads each request line going by and can hold a request
 * (never forward it). That is how a test stops a collector exactly between a page's write and its checkpoint:
 * the checkpoint is a write to the Tenants table that follows the page's `$batch` transactions.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyDecision = 'forward' | 'hold';
export type RequestInspector = (method: string, path: string) => ProxyDecision;

const REQUEST_LINE = /^(GET|PUT|POST|MERGE|PATCH|DELETE|HEAD|OPTIONS) (\S+) HTTP\/1\.[01]\r?$/gm;

export class TableProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly upstreamPort: number,
    private readonly inspect: RequestInspector,
  ) {}

  async start(): Promise<this> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    let holding = false;
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('data', (chunk: Buffer) => {
      if (holding) return;
      for (const m of chunk.toString('latin1').matchAll(REQUEST_LINE)) {
        if (this.inspect(m[1] as string, m[2] as string) === 'hold') holding = true;
      }
      if (!holding) upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  /** Storage goes away: open connections are cut and new ones refused until `start()` again (same port). */
  async cut(): Promise<void> {
    await this.stop();
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The connection string with its TableEndpoint pointed at `port`. */
export function viaTablePort(connectionString: string, port: number): string {
  return connectionString.replace(
    /TableEndpoint=http:\/\/127\.0\.0\.1:\d+\//,
    `TableEndpoint=http://127.0.0.1:${port}/`,
  );
}
