/**
 * The base every simulator shares: HTTPS on 127.0.0.1 (free port), JSON helpers, and the fault / latency /
 * request-log mechanism of the simulator API. Subclasses only route requests to plain answers; everything a
 * test injects (faults, latency, the onRequest hook) happens here, in one place, in a fixed order:
 * log → latency → onRequest → fault (if one matches) or the route's answer.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { decodeJwt } from 'jose';
import type { SimCertificates } from './certs.js';

export interface SimRequest {
  readonly method: string;
  /** Path without the query string, percent-decoding left as received. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The tenant: the `tid` of the bearer token (API sims) or the tenant in the path (Entra sim). */
  readonly tenantId?: string;
  /** The route, e.g. `token`, `discovery`, `incidents`, `alerts`, `secret` (see each simulator). */
  readonly kind?: string;
  /** Status answered; 0 while in flight or when the socket was destroyed before answering. */
  status: number;
  /** Epoch milliseconds when the request arrived. */
  readonly at: number;
}

export interface Fault {
  match?: (req: SimRequest) => boolean;
  /** Default 1; Infinity allowed. */
  times?: number;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  reset?: 'before' | 'midBody';
  malformed?: boolean;
}

/** What a route answers; `raw` bodies are sent as they are (HTML pages, redirects). */
export interface SimResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly raw?: string;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

/** Request context handed to routes: the parsed URL, headers and (for POST) the body text. */
export interface RouteContext {
  readonly req: SimRequest;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** The body bytes as received (a gzip-encoded body is only readable from these). */
  readonly rawBody: Buffer;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body, ...(headers ? { headers } : {}) };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function bearerTenant(authorization: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m?.[1]) return undefined;
  try {
    const tid = decodeJwt(m[1]).tid;
    return typeof tid === 'string' ? tid : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  if (req.method === 'GET' || req.method === 'HEAD') {
    req.resume();
    return Buffer.alloc(0);
  }
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface ActiveFault extends Fault {
  remaining: number;
}

export abstract class SimServer {
  readonly requests: SimRequest[] = [];
  onRequest?: (req: SimRequest) => void | Promise<void>;
  /** Added to every answer (benchmarks); a simulator may narrow it to some routes (see `latencyFor`). */
  latencyMs = 0;
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private faults: ActiveFault[] = [];
  private port = 0;

  get url(): string {
    if (!this.port) throw new Error(`${this.constructor.name} is not started`);
    return `https://127.0.0.1:${this.port}`;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  async start(certs: SimCertificates): Promise<this> {
    const server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      void this.dispatch(req, res).catch((error: unknown) => this.answerCrash(res, error));
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A client that hangs up mid-handshake must not crash the test process.
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Close the listener and destroy open sockets (keep-alive clients would otherwise hold it open). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await closed;
  }

  /** Which route a request is, for logs and fault predicates. */
  protected abstract kindOf(method: string, path: string): string | undefined;
  protected abstract route(ctx: RouteContext): Promise<SimResponse>;

  /** Milliseconds added before answering `req`: `latencyMs` for every route unless a simulator narrows it. */
  protected latencyFor(_req: SimRequest): number {
    return this.latencyMs;
  }

  /** The tenant a request is about; APIs read the token's `tid`, Entra overrides with the path. */
  protected tenantOf(_path: string, headers: IncomingMessage['headers']): string | undefined {
    return bearerTenant(headers.authorization);
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const method = req.method ?? 'GET';
    const tenantId = this.tenantOf(url.pathname, req.headers);
    const kind = this.kindOf(method, url.pathname);
    const simReq: SimRequest = {
      method,
      path: url.pathname,
      query: url.searchParams,
      ...(tenantId !== undefined ? { tenantId } : {}),
      ...(kind !== undefined ? { kind } : {}),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(simReq);
    const rawBody = await readBody(req);
    const body = rawBody.toString('utf8');
    const latency = this.latencyFor(simReq);
    if (latency > 0) await sleep(latency);
    await this.onRequest?.(simReq);
    const fault = this.takeFault(simReq);
    if (fault) return this.answerFault(fault, { req: simReq, headers: req.headers, body, rawBody }, res);
    const answer = await this.route({ req: simReq, headers: req.headers, body, rawBody });
    this.send(res, simReq, answer);
  }

  private takeFault(req: SimRequest): ActiveFault | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && (f.match?.(req) ?? true));
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    return fault;
  }

  private async answerFault(fault: Fault, ctx: RouteContext, res: ServerResponse): Promise<void> {
    if (fault.delayMs) await sleep(fault.delayMs);
    if (fault.reset === 'before') {
      res.socket?.destroy();
      return;
    }
    // A fault without a status replays the real answer (so midBody / malformed break a genuine response).
    const base =
      fault.status !== undefined ? json(fault.status, fault.body ?? {}, fault.headers) : await this.route(ctx);
    const answer: SimResponse = fault.headers ? { ...base, headers: { ...base.headers, ...fault.headers } } : base;
    if (fault.malformed) {
      const text = this.render(answer);
      return this.writeRaw(
        res,
        ctx.req,
        200,
        'application/json',
        answer.headers,
        `${text.slice(0, Math.max(1, Math.floor(text.length / 2)))}`,
      );
    }
    if (fault.reset === 'midBody') return this.writeHalfThenReset(res, ctx.req, answer);
    this.send(res, ctx.req, answer);
  }

  private render(answer: SimResponse): string {
    return answer.raw ?? (answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  private send(res: ServerResponse, req: SimRequest, answer: SimResponse): void {
    const contentType =
      answer.contentType ?? (answer.raw !== undefined ? 'text/html; charset=utf-8' : 'application/json; charset=utf-8');
    this.writeRaw(res, req, answer.status, contentType, answer.headers, this.render(answer));
  }

  private writeRaw(
    res: ServerResponse,
    req: SimRequest,
    status: number,
    contentType: string,
    headers: Record<string, string> | undefined,
    text: string,
  ): void {
    req.status = status;
    if (res.destroyed) return;
    const buffer = Buffer.from(text, 'utf8');
    res.writeHead(status, { 'content-type': contentType, 'content-length': String(buffer.length), ...headers });
    res.end(buffer);
  }

  /** Promise the whole body in content-length, write part of it, then cut the connection. */
  private writeHalfThenReset(res: ServerResponse, req: SimRequest, answer: SimResponse): void {
    req.status = answer.status;
    const buffer = Buffer.from(this.render(answer), 'utf8');
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Math.max(buffer.length, 2)),
      ...answer.headers,
    });
    res.write(buffer.subarray(0, Math.max(1, Math.floor(buffer.length / 2))), () => res.socket?.destroy());
  }

  private answerCrash(res: ServerResponse, error: unknown): void {
    // A bug in a simulator must surface as a 500 the test can see, not an unhandled rejection.
    if (res.headersSent || res.destroyed) return;
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: 'SimulatorError', message: error instanceof Error ? error.message : String(error) },
      }),
    );
  }
}
