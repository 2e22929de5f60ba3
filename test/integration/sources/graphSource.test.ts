/**
 * GraphIncidentSource end to end against the simulators: real Key Vault client, real ClientSecretCredential,
 * real got. The truth is world.graphIncidents (what Graph returns with $expand=alerts).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RETRY_LIMIT } from '../../../shared/adapters/http.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { scaledSourceQuotas } from '../../../devstack/scaledQuotas.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import { buildAdapters, byId, collectPages, truthById, useStackIdentity, wideWindow } from './harness.js';

const SMALL = '0a000000-0000-4000-8000-000000000001';
const BIG = '0a000000-0000-4000-8000-000000000002';
const EXPAND_FAILS = '0a000000-0000-4000-8000-000000000003';
const MUTATING = '0a000000-0000-4000-8000-000000000004';
const BROKEN = '0a000000-0000-4000-8000-000000000005';
const TIME_SCALE = 60;
/** Graph's documented 150/minute, its window divided like the simulator's (one minute becomes one second). */
const GRAPH_QUOTAS = scaledSourceQuotas(TIME_SCALE).graph;

let stack: LocalStack;
let restoreIdentity: () => void;

beforeAll(async () => {
  stack = await startLocalStack({
    azurite: false,
    timeScale: TIME_SCALE,
    tenants: [
      { tenantId: SMALL, incidents: 30 },
      { tenantId: BIG, incidents: 1_200, alertsPerIncident: 1 },
      { tenantId: EXPAND_FAILS, incidents: 120, alertsPerIncident: 3 },
      { tenantId: MUTATING, incidents: 180 },
      { tenantId: BROKEN, incidents: 5 },
    ],
  });
  stack.trustInProcess();
  restoreIdentity = useStackIdentity(stack);
});

afterAll(async () => {
  restoreIdentity?.();
  await stack?.stop();
});

const graphRequests = (tenantId: string) => stack.graph.requests.filter((r) => r.tenantId === tenantId);

describe('GraphIncidentSource', () => {
  it('returns exactly the world’s incidents for a window, as returned (alerts expanded)', async () => {
    const { source } = buildAdapters(stack, { source: 'graph', limiterQuotas: GRAPH_QUOTAS });
    const pages = await collectPages(source.pages(SMALL, wideWindow()));
    const got = byId(pages);
    const truth = truthById(stack.world.graphIncidents(SMALL), 'id');
    expect(truth.size).toBe(30);
    expect([...got.keys()].sort()).toEqual([...truth.keys()].sort());
    for (const [id, incident] of truth) expect(got.get(id)).toEqual(incident);
    // Every page carries a checkpoint (ascending order), ending at the highest lastUpdateDateTime.
    const max = [...truth.values()]
      .map((i) => String(i.lastUpdateDateTime))
      .sort()
      .at(-1);
    expect(pages.every((p) => p.checkpoint !== undefined)).toBe(true);
    expect(pages.at(-1)?.checkpoint).toBe(max);
  });

  it('pages 1,200 incidents in one window by restarting before $skip passes 500, missing none', async () => {
    const { source, http } = buildAdapters(stack, { source: 'graph', limiterQuotas: GRAPH_QUOTAS });
    const pages = await collectPages(source.pages(BIG, wideWindow()));
    const got = byId(pages);
    const truth = truthById(stack.world.graphIncidents(BIG), 'id');
    expect(got.size).toBe(1_200);
    for (const [id, incident] of truth) expect(got.get(id)).toEqual(incident);
    const skips = graphRequests(BIG).map((r) => Number(r.query.get('$skip') ?? 0));
    expect(Math.max(...skips)).toBeLessThanOrEqual(500);
    expect(graphRequests(BIG).every((r) => r.status === 200)).toBe(true);
    // 24 pages of 50 plus a couple of restart re-fetches.
    expect(http.stats.get(BIG).requests).toBeLessThan(30);
  });

  it('falls back to per-incident alerts when $expand=alerts keeps failing with 500, alerts still equal', async () => {
    stack.graph.failExpandAbove(100);
    try {
      const { source, warnings } = buildAdapters(stack, { source: 'graph', limiterQuotas: GRAPH_QUOTAS });
      const pages = await collectPages(source.pages(EXPAND_FAILS, wideWindow()));
      const got = byId(pages);
      const truth = truthById(stack.world.graphIncidents(EXPAND_FAILS), 'id');
      expect(got.size).toBe(120);
      for (const [id, incident] of truth) {
        expect((incident.alerts as unknown[]).length).toBe(3);
        expect(got.get(id)).toEqual(incident);
      }
      expect(warnings.filter((w) => w.event === 'graph.expand_alerts_failed')).toHaveLength(1);
      const expandCalls = graphRequests(EXPAND_FAILS).filter((r) => r.query.get('$expand') === 'alerts');
      expect(expandCalls).toHaveLength(RETRY_LIMIT + 1);
      expect(graphRequests(EXPAND_FAILS).filter((r) => r.kind === 'alerts')).toHaveLength(120);
    } finally {
      stack.graph.failExpandAbove(null);
    }
  });

  it('misses no other incident when one already paged is changed mid-paging', async () => {
    const { source } = buildAdapters(stack, { source: 'graph', limiterQuotas: GRAPH_QUOTAS });
    const before = stack.world.graphIncidents(MUTATING);
    const oldest = [...before].sort((a, b) =>
      String(a.lastUpdateDateTime).localeCompare(String(b.lastUpdateDateTime)),
    )[0]!;
    const window = wideWindow();
    let mutated = false;
    stack.graph.onRequest = (req) => {
      // After the first page was served, the oldest incident (on it) changes and leaves the window's end.
      if (!mutated && req.tenantId === MUTATING && req.query.get('$skip') === '50') {
        stack.world.mutate(MUTATING, String(oldest.id));
        mutated = true;
      }
    };
    try {
      const got = byId(await collectPages(source.pages(MUTATING, window)));
      expect(mutated).toBe(true);
      const missing = before.filter((i) => i.id !== oldest.id && !got.has(String(i.id))).map((i) => i.id);
      expect(missing).toEqual([]);
    } finally {
      stack.graph.onRequest = undefined;
    }
  });

  it('makes a bounded number of requests against an API that fails with 500 forever', async () => {
    const { source, http } = buildAdapters(stack, { source: 'graph' });
    stack.graph.inject({
      match: (r) => r.tenantId === BROKEN,
      status: 500,
      body: { error: { code: 'InternalServerError', message: 'boom' } },
      times: Infinity,
    });
    try {
      const error = await collectPages(source.pages(BROKEN, wideWindow())).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'HTTP_500', kind: 'transient', status: 500 });
      // Bound: (RETRY_LIMIT + 1) attempts with $expand, then the same without it (the expand fallback) — 10.
      expect(graphRequests(BROKEN)).toHaveLength(2 * (RETRY_LIMIT + 1));
      expect(http.stats.get(BROKEN).requests).toBe(2 * (RETRY_LIMIT + 1));
    } finally {
      stack.graph.clearFaults();
    }
  });

  it('probes with one $top=1 call', async () => {
    const { source } = buildAdapters(stack, { source: 'graph' });
    const before = graphRequests(SMALL).length;
    await source.probe(SMALL);
    const calls = graphRequests(SMALL).slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.query.get('$top')).toBe('1');
  });
});
