/**
 * WebhookReceiverSim: an HTTPS webhook receiver (design §9) for tests, the demo and the reliability suite. Each
 * endpoint (`addEndpoint`) has its own `whsec_` secret; a POST to it is verified with the `standardwebhooks`
 * library: a valid signature is recorded in `deliveries` and answered 204, a bad one 401. Faults come from the
 * SimServer base: `failNext(status, times)` (e.g. 500 or 410), `resetNext(times)` (the connection is cut),
 * `stall()` (every request waits at a gate until released), plus `inject`/`onRequest` for anything else.
 */
import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';

/** One delivery whose signature verified. */
export interface ReceivedDelivery {
  /** The endpoint path, e.g. `/hooks/1`. */
  readonly path: string;
  readonly webhookId: string;
  readonly timestamp: number;
  readonly contentType: string;
  /** The body as received (the CloudEvent JSON text). */
  readonly body: string;
  /** The parsed CloudEvent. */
  readonly event: { id: string; type: string; data: { sequence: number; incidentId: string; tenantId: string } };
}

export class WebhookReceiverSim extends SimServer {
  readonly deliveries: ReceivedDelivery[] = [];
  /** Requests whose signature did not verify (answered 401). */
  readonly rejected: { path: string; reason: string }[] = [];
  private readonly secrets = new Map<string, string>();
  private next = 1;

  /** A new endpoint with a fresh secret (or `secret`): its URL and the secret to subscribe with. */
  addEndpoint(secret = `whsec_${randomBytes(32).toString('base64')}`): { url: string; path: string; secret: string } {
    const path = `/hooks/${this.next++}`;
    this.secrets.set(path, secret);
    return { url: `${this.url}${path}`, path, secret };
  }

  /** Verify `path`'s requests with `secret` from now on (a secret the collector generated at `subscriptions add`). */
  setSecret(path: string, secret: string): void {
    if (!this.secrets.has(path)) throw new Error(`No endpoint ${path}`);
    this.secrets.set(path, secret);
  }

  /** Answer `status` to the next `times` requests (of `path`, when given) instead of recording them. */
  failNext(status: number, times: number, path?: string): void {
    this.inject({ status, times, ...(path ? { match: (r) => r.path === path } : {}) });
  }

  /** Cut the connection of the next `times` requests before answering. */
  resetNext(times: number, path?: string): void {
    this.inject({ reset: 'before', times, ...(path ? { match: (r) => r.path === path } : {}) });
  }

  /** Hold every request at a gate until `release()`; `arrived` resolves when the first one is waiting. */
  stall(): { arrived: Promise<void>; release: () => void } {
    let release: () => void = () => undefined;
    let arrivedResolve: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (arrivedResolve = resolve));
    this.onRequest = async () => {
      arrivedResolve();
      await gate;
    };
    return {
      arrived,
      release: () => {
        this.onRequest = undefined;
        release();
      },
    };
  }

  /** The verified deliveries to `path`. */
  to(path: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.path === path);
  }

  protected kindOf(method: string, path: string): string | undefined {
    return method === 'POST' && this.secrets.has(path) ? 'webhook' : undefined;
  }

  protected override tenantOf(): string | undefined {
    return undefined;
  }

  protected async route({ req, headers, body }: RouteContext): Promise<SimResponse> {
    const secret = this.secrets.get(req.path);
    if (req.method !== 'POST' || secret === undefined) return json(404, { error: 'no such endpoint' });
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) if (typeof v === 'string') flat[k] = v;
    try {
      new Webhook(secret).verify(body, flat);
    } catch (error) {
      this.rejected.push({ path: req.path, reason: error instanceof Error ? error.message : String(error) });
      return json(401, { error: 'signature did not verify' });
    }
    this.deliveries.push({
      path: req.path,
      webhookId: flat['webhook-id'] ?? '',
      timestamp: Number(flat['webhook-timestamp']),
      contentType: flat['content-type'] ?? '',
      body,
      event: JSON.parse(body) as ReceivedDelivery['event'],
    });
    return { status: 204 };
  }
}
