/**
 * The incidents-API HTTP client against the Graph simulator: what is retried (throttling, resets, timeouts,
 * truncated bodies), how long it waits, and that the tenant's limiter pauses everyone after a 429.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createIncidentHttp } from '../../../shared/adapters/http.js';
import { RateLimiter, SOURCE_QUOTAS, type LimiterClock } from '../../../shared/adapters/rateLimiter.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import { buildAdapters, useStackIdentity } from './harness.js';

const TENANT = '0d000000-0000-4000-8000-000000000001';

let stack: LocalStack;
let restoreIdentity: () => void;

beforeAll(async () => {
  stack = await startLocalStack({ azurite: false, tenants: [{ tenantId: TENANT, incidents: 3 }] });
  stack.trustInProcess();
  restoreIdentity = useStackIdentity(stack);
});

afterEach(() => stack.graph.clearFaults());

afterAll(async () => {
  restoreIdentity?.();
  await stack?.stop();
});

const incidentsUrl = () => `${stack.graph.url}/v1.0/security/incidents?$top=1`;

function client(options: Parameters<typeof createIncidentHttp>[0] = {}) {
  const { tokens } = buildAdapters(stack, { source: 'graph' });
  const http = createIncidentHttp({ backoff: { baseMs: 10, capMs: 50 }, ...options });
  return { http, tokens };
}

/** A limiter clock that moves only when told; `pending` lists the waits scheduled from now, in ms. */
function manualClock(): LimiterClock & { advance(ms: number): void; pending(): number[] } {
  let now = 1_000_000;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => now,
    schedule(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
    advance(ms) {
      now += ms;
      const due = timers.filter((t) => t.at <= now);
      timers = timers.filter((t) => t.at > now);
      for (const t of due) t.fn();
    },
    pending: () => timers.map((t) => t.at - now),
  };
}

/** A limiter that records the pauses the HTTP client asks of it. */
class ObservedLimiter extends RateLimiter {
  readonly penalties: number[] = [];
  override penalize(tenantId: string, retryAfterMs: number): void {
    this.penalties.push(retryAfterMs);
    super.penalize(tenantId, retryAfterMs);
  }
}

/** Resolve once `condition` holds (checked on each turn of the event loop, a few ms apart). */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('createIncidentHttp', () => {
  it('waits Retry-After on 429 and pauses the tenant’s other callers through the limiter', async () => {
    // The limiter runs on a manual clock: nothing it holds back can go until the test moves time, so the pause is
    // asserted by event order (who reached the server before and after the move), never by elapsed wall time.
    const clock = manualClock();
    const limiter = new ObservedLimiter({ quotas: SOURCE_QUOTAS.graph, clock });
    const { http, tokens } = client();
    stack.graph.inject({
      match: (r) => r.tenantId === TENANT,
      status: 429,
      headers: { 'retry-after': '1' },
      body: { error: { code: 'TooManyRequests', message: 'slow down' } },
    });
    const request = { tenantId: TENANT, tokenProvider: tokens, limiter };
    const start = stack.graph.requests.length;
    const first = http.getJson(incidentsUrl(), request);
    // A second caller starting once the client has told the limiter about the 429 must wait for the same pause.
    await until(() => limiter.penalties.length > 0);
    expect(limiter.penalties).toEqual([1_000]);
    const second = http.getJson(incidentsUrl(), request);
    // Both the second caller and the first caller's retry end up waiting in the limiter for the paused tenant.
    await until(() => limiter.waiting(TENANT) === 2);
    expect(stack.graph.requests.slice(start).map((r) => r.status)).toEqual([429]);
    // The pause is the Retry-After (1 s) from the moment of the 429, on the limiter's clock.
    expect(clock.pending()).toEqual([1_000]);
    clock.advance(999);
    expect(limiter.waiting(TENANT)).toBe(2);
    clock.advance(1);
    await Promise.all([first, second]);
    const log = stack.graph.requests.slice(start);
    expect(log.map((r) => r.status)).toEqual([429, 200, 200]);
    expect(http.stats.get(TENANT)).toEqual({ requests: 3, throttled: 1, retries: 1 });
  });

  it('retries connection resets (before answering and mid-body) and timeouts, then succeeds', async () => {
    // A timeout well above a normal answer's time, so only the delayed attempt times out.
    const { http, tokens } = client({ requestTimeoutMs: 1_500 });
    stack.graph.inject({ match: (r) => r.tenantId === TENANT, reset: 'before' });
    stack.graph.inject({ match: (r) => r.tenantId === TENANT, reset: 'midBody' });
    stack.graph.inject({ match: (r) => r.tenantId === TENANT, delayMs: 6_000 });
    const body = await http.getJson(incidentsUrl(), { tenantId: TENANT, tokenProvider: tokens });
    expect(Array.isArray(body.value)).toBe(true);
    expect(http.stats.get(TENANT)).toMatchObject({ requests: 4, retries: 3 });
  });

  it('does not retry a 403 and reports it as missing_permissions with the API’s error', async () => {
    const { http, tokens } = client();
    stack.graph.inject({
      match: (r) => r.tenantId === TENANT,
      status: 403,
      body: { error: { code: 'Forbidden', message: 'Missing application roles.' } },
    });
    const error = await http.getJson(incidentsUrl(), { tenantId: TENANT, tokenProvider: tokens }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'HTTP_403', kind: 'missing_permissions', status: 403 });
    expect((error as Error).message).toContain('Forbidden Missing application roles.');
    expect(http.stats.get(TENANT).requests).toBe(1);
  });

  it('gives up waiting for the limiter when the caller aborts', async () => {
    const limiter = new RateLimiter({ quotas: SOURCE_QUOTAS.graph });
    limiter.penalize(TENANT, 60_000);
    const { http, tokens } = client();
    const controller = new AbortController();
    const pending = http.getJson(incidentsUrl(), {
      tenantId: TENANT,
      tokenProvider: tokens,
      limiter,
      signal: controller.signal,
    });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    expect(http.stats.get(TENANT).requests).toBe(0);
  });
});
