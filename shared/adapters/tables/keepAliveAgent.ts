/**
 * Keep-alive HTTP(S) agents for the Table clients that never hand a request a pooled connection the server may
 * already have closed for idleness.
 *
 * Why: the SDK's own agent (`new http.Agent({ keepAlive: true })` in `@typespec/ts-http-runtime`) sets no idle
 * timeout, and Node 22's agent then ignores the server's `Keep-Alive: timeout=N` hint (it only lowers a configured
 * timeout), so an idle pooled socket stays in the pool until the client's event loop reads the server's FIN.
 * Azurite (like any Node server) closes a keep-alive connection after 5 s of idleness. When the client's loop was
 * busy through that moment (hashing, compressing and serialising a page of large incidents on a loaded machine),
 * the FIN is still unread when the next request is issued: the agent hands out the closed socket, the server's
 * kernel answers with a reset, and writing a large `$batch` body fails with `write EPIPE` (a small request with
 * ECONNRESET). Node's agent reuses the most recently freed socket first and only skips a destroyed socket at the
 * other end of its free list, so the re-sends of `socketRetryPolicy` could land on more sockets closed the same way.
 * A real Azure Table endpoint (and every proxy and load balancer in between) closes idle connections too.
 *
 * How: a socket counts as idle from the moment it was last handed to a request (a new connection: when it was
 * created) — earlier than the server's idle clock starts (when it finished the answer), so this over-estimates the
 * server's view whatever the client's event-loop lag. When a request is added, every pooled socket idle for
 * `maxIdleMs` or longer is discarded first (checked against the clock at that moment, so a blocked event loop
 * cannot make the pool hand out a stale socket); a free socket's timer also closes it after `maxIdleMs` while the
 * loop runs freely, to release it early.
 */
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Longest idle time (ms) after which a pooled connection is not reused: well below the 5 s keep-alive timeout of
 * Node-based servers (Azurite) and Apache, the shortest common ones, so a server whose own loop lags by up to
 * 3 s under load has still not closed it; far below Azure's front-end and load-balancer idle timeouts (minutes).
 * The cost of a lower value is only a new connection (TCP, and TLS in production) after a pause of this length.
 */
export const KEEP_ALIVE_MAX_IDLE_MS = 2_000;

export interface KeepAliveAgentOptions {
  /** Idle time (ms, > 0) after which a pooled socket is closed instead of reused; default KEEP_ALIVE_MAX_IDLE_MS. */
  readonly maxIdleMs?: number;
  /** A monotonic clock in ms (tests inject one); default `performance.now`. */
  readonly now?: () => number;
}

/** The pool state and rules shared by the HTTP and HTTPS variants. */
class IdleTracker {
  private readonly assignedAt = new WeakMap<Duplex, number>();
  readonly maxIdleMs: number;
  private readonly now: () => number;

  constructor(options: KeepAliveAgentOptions) {
    const maxIdleMs = options.maxIdleMs ?? KEEP_ALIVE_MAX_IDLE_MS;
    if (!Number.isFinite(maxIdleMs) || maxIdleMs <= 0)
      throw new Error(`keep-alive agent: maxIdleMs must be a positive number of milliseconds, got ${maxIdleMs}`);
    this.maxIdleMs = maxIdleMs;
    this.now = options.now ?? (() => performance.now());
  }

  /** The socket is being handed to a request now. */
  assigned(socket: Duplex | undefined): void {
    if (socket) this.assignedAt.set(socket, this.now());
  }

  /** ms the socket has been idle by the conservative measure (Infinity when unknown: never reuse it). */
  idleMs(socket: Duplex): number {
    const at = this.assignedAt.get(socket);
    return at === undefined ? Number.POSITIVE_INFINITY : this.now() - at;
  }

  /** Close and unlist every free socket idle for maxIdleMs or longer (Node's pool never returns an unlisted one). */
  prune(freeSockets: NodeJS.ReadOnlyDict<Socket[]>): void {
    for (const sockets of Object.values(freeSockets)) {
      if (!sockets) continue;
      for (let i = sockets.length - 1; i >= 0; i--) {
        const socket = sockets[i] as Socket;
        if (socket.destroyed || this.idleMs(socket) >= this.maxIdleMs) {
          sockets.splice(i, 1);
          socket.destroy();
        }
      }
    }
  }

  /** A freed socket: let its timer close it when its idle budget runs out (only while the event loop runs). */
  freed(socket: Socket): void {
    socket.setTimeout(Math.max(1, Math.ceil(this.maxIdleMs - this.idleMs(socket))));
  }
}

type AddRequest = (req: http.ClientRequest, options: http.RequestOptions) => void;

/**
 * The one implementation of both agents: `Base` is `http.Agent` or `https.Agent` (which extends it), so the pool
 * hooks are the same; only the connection factory differs, and that comes from `Base`.
 */
function idleBounded<B extends typeof http.Agent>(Base: B) {
  return class IdleBounded extends (Base as typeof http.Agent) {
    private readonly idle: IdleTracker;

    /** @throws Error naming `maxIdleMs` when it is not a positive number. */
    constructor(options: KeepAliveAgentOptions = {}) {
      super({ keepAlive: true });
      this.idle = new IdleTracker(options);
    }

    override createConnection(...args: Parameters<http.Agent['createConnection']>): Duplex | null | undefined {
      const socket = super.createConnection(...args);
      this.idle.assigned(socket ?? undefined);
      return socket;
    }

    /** Node returns whether the socket stays pooled (@types/node says void). */
    override keepSocketAlive(socket: Duplex): void {
      const keep = (super.keepSocketAlive as (s: Duplex) => boolean | undefined).call(this, socket) !== false;
      if (keep) this.idle.freed(socket as Socket);
      return keep as unknown as void;
    }

    override reuseSocket(socket: Duplex, request: http.ClientRequest): void {
      super.reuseSocket(socket, request);
      (socket as Socket).setTimeout(0);
      this.idle.assigned(socket);
    }

    /** Node's `Agent#addRequest` (public in Node's code, absent from @types/node): prune the pool first. */
    addRequest(req: http.ClientRequest, options: http.RequestOptions): void {
      this.idle.prune(this.freeSockets as NodeJS.ReadOnlyDict<Socket[]>);
      (Base.prototype as unknown as { addRequest: AddRequest }).addRequest.call(this, req, options);
    }
  };
}

/** A keep-alive `http.Agent` that never reuses a socket idle for `maxIdleMs` or longer (see the module doc). */
export const IdleBoundedHttpAgent = idleBounded(http.Agent);
export type IdleBoundedHttpAgent = InstanceType<typeof IdleBoundedHttpAgent>;

/** The HTTPS counterpart of IdleBoundedHttpAgent (production endpoints): an `https.Agent` with the same pool rule. */
export const IdleBoundedHttpsAgent = idleBounded(https.Agent);
export type IdleBoundedHttpsAgent = InstanceType<typeof IdleBoundedHttpsAgent>;

/** The agent for an endpoint URL: HTTPS unless the URL says `http:` (the loopback emulator). */
export function keepAliveAgentFor(
  endpoint: string | undefined,
  options: KeepAliveAgentOptions = {},
): IdleBoundedHttpAgent | IdleBoundedHttpsAgent {
  return endpoint !== undefined && endpoint.toLowerCase().startsWith('http:')
    ? new IdleBoundedHttpAgent(options)
    : new IdleBoundedHttpsAgent(options);
}
