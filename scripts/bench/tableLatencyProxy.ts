/**
 * Storage latency for the benchmark: a TCP proxy in front of Azurite's table port that holds every HTTP request
 * for `delayMs` before forwarding it, like an in-region Azure Table adds a few milliseconds to each round trip.
 * Bytes keep their order on each connection (a chunk that starts a request waits; the chunks after it queue
 * behind it); answers pass straight through. It counts the requests it delayed, as a cross-check of the
 * collector's own round-trip count.
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A request starts a chunk (the SDK's HTTP client does not pipeline; the headers are its first write). Anchored at
 * the chunk's start only: a `$batch` body carries request lines of its own, which are not round trips.
 */
const REQUEST_START = /^(GET|PUT|POST|MERGE|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP\/1\.[01]\r\n/;

export class TableLatencyProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  /** Requests held so far (one per round trip). */
  requests = 0;

  /**
   * @param upstreamPort Azurite's table port on 127.0.0.1.
   * @param delayMs milliseconds added to each request (≥ 0).
   */
  constructor(
    private readonly upstreamPort: number,
    private readonly delayMs: number,
  ) {
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new RangeError('delayMs must be a number ≥ 0.');
  }

  async start(): Promise<this> {
    const server = net.createServer((client) => this.pipe(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, '127.0.0.1');
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    }
    let queue: Promise<void> = Promise.resolve();
    client.on('data', (chunk: Buffer) => {
      const starts = REQUEST_START.test(chunk.subarray(0, 8 * 1024).toString('latin1'));
      if (starts) this.requests++;
      queue = queue.then(async () => {
        if (starts && this.delayMs > 0) await sleep(this.delayMs);
        if (!upstream.destroyed) upstream.write(chunk);
      });
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
