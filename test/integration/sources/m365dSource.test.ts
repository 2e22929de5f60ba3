/**
 * M365dIncidentSource end to end against the legacy API simulator (newest first, no nextLink, quota
 * 50/minute and 1,500/hour, windows divided by the stack's timeScale). The truth is world.legacyIncidents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RETRY_LIMIT } from '../../../shared/adapters/http.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { scaleQuotas } from '../../../devstack/scaledQuotas.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import {
  buildAdapters,
  byId,
  collectPages,
  steppingClock,
  truthById,
  useStackIdentity,
  wideWindow,
} from './harness.js';

const SMALL = '0b000000-0000-4000-8000-000000000001';
const BIG = '0b000000-0000-4000-8000-000000000002';
const MUTATING = '0b000000-0000-4000-8000-000000000003';
const BROKEN = '0b000000-0000-4000-8000-000000000004';
const THROTTLED = '0b000000-0000-4000-8000-000000000005';
const MALFORMED = '0b000000-0000-4000-8000-000000000006';
const TIME_SCALE = 60;
/** A tighter legacy quota than the real 50/minute, so that 1,000 incidents need several quota windows. */
const QUOTA = [
  { limit: 10, windowMs: 60_000 },
  { limit: 1_500, windowMs: 3_600_000 },
];
/** QUOTA with its windows divided like the simulator's, for the collector's limiter. */
const LIMITER_QUOTAS = scaleQuotas(QUOTA, TIME_SCALE);

/** The limiter and the simulator's quota share one virtual clock: "no 429" cannot hinge on delivery times. */
const clock = steppingClock();

let stack: LocalStack;
let restoreIdentity: () => void;

beforeAll(async () => {
  stack = await startLocalStack({
    azurite: false,
    timeScale: TIME_SCALE,
    quotaClock: clock.now,
    legacyQuotaPerMinute: 10,
    tenants: [
      { tenantId: SMALL, incidents: 40 },
      { tenantId: BIG, incidents: 1_000, alertsPerIncident: 1 },
      { tenantId: MUTATING, incidents: 400, alertsPerIncident: 1 },
      { tenantId: BROKEN, incidents: 5 },
      { tenantId: THROTTLED, incidents: 5 },
      { tenantId: MALFORMED, incidents: 5 },
    ],
  });
  stack.trustInProcess();
  restoreIdentity = useStackIdentity(stack);
});

afterAll(async () => {
  restoreIdentity?.();
  await stack?.stop();
});

const legacyRequests = (tenantId: string) => stack.legacy.requests.filter((r) => r.tenantId === tenantId);

describe('M365dIncidentSource', () => {
  it('returns exactly the world’s incidents for a window, ids as strings, objects as returned', async () => {
    const { source } = buildAdapters(stack, { source: 'm365d', limiterQuotas: LIMITER_QUOTAS, limiterClock: clock });
    const pages = await collectPages(source.pages(SMALL, wideWindow()));
    const got = byId(pages);
    const truth = truthById(stack.world.legacyIncidents(SMALL), 'incidentId');
    expect(truth.size).toBe(40);
    expect([...got.keys()].sort()).toEqual([...truth.keys()].sort());
    for (const [id, incident] of truth) expect(got.get(id)).toEqual(incident);
    const fetched = pages.flatMap((p) => p.incidents);
    expect(fetched.every((f) => f.lastUpdateTime === f.incident.lastUpdateTime)).toBe(true);
    expect(pages.at(-1)?.checkpoint).toBeDefined();
  });

  it('slices 1,000 incidents in one window under the quota: all returned, no 429', async () => {
    const { source, http } = buildAdapters(stack, {
      source: 'm365d',
      limiterQuotas: LIMITER_QUOTAS,
      limiterClock: clock,
    });
    const pages = await collectPages(source.pages(BIG, wideWindow()));
    const got = byId(pages);
    const truth = truthById(stack.world.legacyIncidents(BIG), 'incidentId');
    expect(got.size).toBe(1_000);
    for (const [id, incident] of truth) expect(got.get(id)).toEqual(incident);
    const requests = legacyRequests(BIG);
    expect(requests.filter((r) => r.status === 429)).toEqual([]);
    expect(http.stats.get(BIG).throttled).toBe(0);
    // No $skip paging was needed, and the slicing stayed economical (≈ 1,000 / 65 plus the splits).
    expect(requests.every((r) => !r.query.has('$skip'))).toBe(true);
    expect(requests.length).toBeLessThan(40);
    // More requests than one (scaled) minute's quota were needed, so the limiter really paced them.
    expect(requests.length).toBeGreaterThan(10);
  });

  it('misses no other incident when incidents change mid-paging', async () => {
    const { source } = buildAdapters(stack, { source: 'm365d', limiterQuotas: LIMITER_QUOTAS, limiterClock: clock });
    const before = stack.world.legacyIncidents(MUTATING);
    const sorted = [...before].sort((a, b) => String(a.lastUpdateTime).localeCompare(String(b.lastUpdateTime)));
    const victims = [sorted[0]!, sorted[150]!, sorted[399]!].map((i) => String(i.incidentId));
    let calls = 0;
    stack.legacy.onRequest = (req) => {
      if (req.tenantId !== MUTATING) return;
      calls++;
      // Change incidents early, in the middle and at the end of the window while slices are being read.
      if (calls >= 2 && calls - 2 < victims.length) stack.world.mutate(MUTATING, victims[calls - 2]!);
    };
    try {
      const got = byId(await collectPages(source.pages(MUTATING, wideWindow())));
      expect(calls).toBeGreaterThan(victims.length + 1);
      const missing = before
        .filter((i) => !victims.includes(String(i.incidentId)) && !got.has(String(i.incidentId)))
        .map((i) => i.incidentId);
      expect(missing).toEqual([]);
    } finally {
      stack.legacy.onRequest = undefined;
    }
  });

  it('waits as the legacy 429 body says ("Try again in N seconds") and then succeeds', async () => {
    const { source, http, warnings } = buildAdapters(stack, { source: 'm365d' });
    stack.legacy.inject({
      match: (r) => r.tenantId === THROTTLED,
      status: 429,
      body: {
        error: { code: 'TooManyRequests', message: 'Rate limit is exceeded. Try again in 1 seconds.', target: 'x' },
      },
    });
    const got = byId(await collectPages(source.pages(THROTTLED, wideWindow())));
    expect(got.size).toBe(5);
    const [first, second] = legacyRequests(THROTTLED);
    expect(first?.status).toBe(429);
    expect(second?.status).toBe(200);
    // The wait the client chose (from the body's "1 seconds"), not the wall time between the two requests: a busy
    // CI machine can stretch or (with timer coalescing) blur that gap, the chosen delay it cannot.
    const retries = warnings.filter((w) => w.event === 'http_retry' && w.fields?.tenantId === THROTTLED);
    expect(retries.map((w) => [w.fields?.status, w.fields?.delayMs])).toEqual([[429, 1_000]]);
    expect(http.stats.get(THROTTLED)).toMatchObject({ throttled: 1, retries: 1 });
  });

  it('makes a bounded number of requests against an API that fails with 500 forever', async () => {
    const { source } = buildAdapters(stack, { source: 'm365d' });
    stack.legacy.inject({
      match: (r) => r.tenantId === BROKEN,
      status: 500,
      body: { error: { code: 'InternalServerError', message: 'boom', target: 'x' } },
      times: Infinity,
    });
    try {
      const error = await collectPages(source.pages(BROKEN, wideWindow())).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'HTTP_500', kind: 'transient' });
      expect((error as Error).message).toContain('InternalServerError boom');
      // Bound: one call, RETRY_LIMIT retries — 5 requests.
      expect(legacyRequests(BROKEN)).toHaveLength(RETRY_LIMIT + 1);
    } finally {
      stack.legacy.clearFaults();
    }
  });

  it('retries a malformed JSON body and reports MALFORMED_RESPONSE when it persists', async () => {
    const { source } = buildAdapters(stack, { source: 'm365d', limiterQuotas: LIMITER_QUOTAS, limiterClock: clock });
    stack.legacy.inject({ match: (r) => r.tenantId === MALFORMED, malformed: true, times: 1 });
    await expect(source.probe(MALFORMED)).resolves.toBeUndefined();
    stack.legacy.inject({ match: (r) => r.tenantId === MALFORMED, malformed: true, times: Infinity });
    try {
      const before = legacyRequests(MALFORMED).length;
      await expect(source.probe(MALFORMED)).rejects.toMatchObject({ code: 'MALFORMED_RESPONSE', kind: 'transient' });
      expect(legacyRequests(MALFORMED).length - before).toBe(RETRY_LIMIT + 1);
    } finally {
      stack.legacy.clearFaults();
    }
  });
});
