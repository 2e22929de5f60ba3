/**
 * Issue 14 end to end, on both simulators (Graph and the legacy API) with Azurite and the real adapters: a mixed
 * fleet under INCIDENT_SOURCE=auto, consent for Graph arriving mid-fleet, a switch over live data that keeps every
 * legacy version and adds the Graph ones with nothing missed around the switch, `sources check --json`,
 * `tenants set-source`, and the deadline (SOURCE_RETIRED, health, start-up warning) on an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';
import { GRAPH_READ_ROLES } from '../../devstack/graph.js';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { silentLogger } from '../../shared/log.js';
import type { Logger } from '../../shared/ports.js';
import { checkHealth } from '../../shared/usecases/health.js';
import { runCollection } from '../../shared/usecases/runCollection.js';

/** Legacy-only at first; consents to Graph later (the live switch). */
const LATE = '5e000000-0000-4000-8000-0000000000a1';
/** Legacy-only at first; its Graph consent arrives while the fleet is being collected. */
const MID = '5e000000-0000-4000-8000-0000000000a2';
/** Graph-ready from the start. */
const READY = '5e000000-0000-4000-8000-0000000000b1';
/** Pinned to the legacy API with `tenants set-source`, for the deadline. */
const PINNED = '5e000000-0000-4000-8000-0000000000c1';

interface ExportRow {
  tenantId: string;
  incidentId: string;
  lastUpdateTime: string;
  source: 'graph' | 'm365d';
  incident: Record<string, unknown>;
}

interface CollectJson {
  tenants: { tenantId: string; status: string; incidentsChanged: number; error?: { code: string; message: string } }[];
}

interface TenantJson {
  tenantId: string;
  status: string;
  source: 'graph' | 'm365d' | null;
  watermark: string | null;
  lastErrorCode: string | null;
}

describe('sources per tenant: mixed fleet, auto, switch, deadline', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const grantGraph = (tenantId: string) =>
    stack.entra.setTenantRoles(tenantId, [GRAPH_READ_ROLES[0] as string], stack.graph.url);
  const exportRows = async (...extra: string[]) =>
    ndjson<ExportRow>((await cli('incidents', 'export', ...extra)).stdout);
  const tenantsJson = async () =>
    new Map((JSON.parse((await cli('tenants', 'list', '--json')).stdout) as TenantJson[]).map((t) => [t.tenantId, t]));
  const truth = (source: 'graph' | 'm365d', tenantId: string) =>
    new Map(
      (source === 'graph' ? stack.world.graphIncidents(tenantId) : stack.world.legacyIncidents(tenantId)).map((i) => [
        String(source === 'graph' ? i.id : i.incidentId),
        i,
      ]),
    );

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [LATE, MID, READY, PINNED].map((tenantId) => ({ tenantId, incidents: 25 })),
    });
    stack.trustInProcess();
    for (const t of [LATE, MID]) stack.entra.setTenantRoles(t, [], stack.graph.url);
    // A day of overlap: the Graph run after a switch re-reads many versions the legacy API already stored.
    env = {
      ...stack.env,
      INCIDENT_SOURCE: 'auto',
      SYNC_LAG_SECONDS: '0',
      SYNC_OVERLAP_SECONDS: '86400',
      TENANT_CONCURRENCY: '1',
    };
    for (const t of [LATE, MID, READY, PINNED]) expect((await cli('tenants', 'add', t)).code).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('sources check --json reports readiness per source, the action, and a consent link only where Graph lacks consent', async () => {
    const legacyCalls = stack.legacy.requests.length;
    const r = await cli('sources', 'check', '--json', '--tenant', LATE, '--tenant', READY);
    expect(r.code).toBe(1); // a tenant needs action
    const report = JSON.parse(r.stdout) as {
      defaultSource: string;
      legacyRetired: boolean;
      tenants: {
        tenantId: string;
        source: string;
        collectsFrom: string | null;
        graph: { ready: boolean; code: string | null };
        legacy: { ready: boolean };
        action: string;
        consentLink: { url: string; expiresAt: string } | null;
      }[];
    };
    expect(report).toMatchObject({ defaultSource: 'auto', legacyRetired: false });
    const byId = new Map(report.tenants.map((t) => [t.tenantId, t]));
    expect(byId.get(LATE)).toMatchObject({
      source: 'auto',
      collectsFrom: 'm365d',
      graph: { ready: false, code: 'MISSING_ROLE' },
      legacy: { ready: true },
      action: 'send_consent_link',
    });
    const link = new URL(byId.get(LATE)?.consentLink?.url ?? 'https://invalid');
    expect(link.pathname).toBe(`/${LATE}/v2.0/adminconsent`);
    expect(link.searchParams.get('scope')).toBe(`${new URL(stack.graph.url).origin}/.default`);
    // READY was pinned to Graph when `tenants add` verified it under auto.
    expect(byId.get(READY)).toMatchObject({
      source: 'graph',
      collectsFrom: 'graph',
      graph: { ready: true },
      action: 'none',
      consentLink: null,
    });
    // One $top=1 call per tenant and source, nothing collected or written.
    const calls = stack.legacy.requests.slice(legacyCalls);
    expect(calls.map((c) => c.query.get('$top'))).toEqual(['1', '1']);
    expect(await exportRows()).toEqual([]);
  });

  it('a mixed fleet under auto collects each tenant from its own source; consent arriving mid-fleet moves that tenant at once', async () => {
    // Consent for MID arrives while LATE (collected just before it, concurrency 1) is being read from the legacy API.
    stack.legacy.onRequest = (req) => {
      if (req.tenantId === LATE) grantGraph(MID);
    };
    const graphBefore = stack.graph.requests.length;
    const legacyBefore = stack.legacy.requests.length;
    const r = await cli('collect', '--json', '--tenant', LATE, '--tenant', MID, '--tenant', READY);
    stack.legacy.onRequest = undefined;
    expect(r.code).toBe(0);
    const run = JSON.parse(r.stdout) as CollectJson;
    expect(run.tenants.map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);

    const legacyTenants = new Set(stack.legacy.requests.slice(legacyBefore).map((q) => q.tenantId));
    const graphTenants = new Set(stack.graph.requests.slice(graphBefore).map((q) => q.tenantId));
    expect([...legacyTenants]).toEqual([LATE]);
    expect([...graphTenants].sort()).toEqual([MID, READY]);

    for (const [tenantId, source] of [
      [LATE, 'm365d'],
      [MID, 'graph'],
      [READY, 'graph'],
    ] as const) {
      const rows = await exportRows('--tenant', tenantId);
      const expected = truth(source, tenantId);
      expect(rows.map((x) => x.incidentId).sort()).toEqual([...expected.keys()].sort());
      for (const row of rows) {
        expect(row.source).toBe(source);
        expect(row.incident).toEqual(expected.get(row.incidentId));
      }
    }
    const tenants = await tenantsJson();
    expect(tenants.get(LATE)?.source).toBeNull(); // still auto, on the legacy API
    expect(tenants.get(MID)?.source).toBe('graph'); // moved by itself, visible
    const text = await cli('tenants', 'list');
    expect(text.stdout).toMatch(new RegExp(`${MID}.*graph`));
  });

  it('a switch over live data keeps every legacy version, adds the Graph ones, and misses nothing around the switch', async () => {
    const before = await exportRows('--history', '--tenant', LATE);
    expect(before.every((r) => r.source === 'm365d')).toBe(true);
    const checkpoint = (await tenantsJson()).get(LATE)?.watermark as string;
    expect(checkpoint).toBeTruthy();

    // Around the switch: two incidents change, one surfaces late just below the checkpoint (inside the overlap).
    const ids = [...truth('m365d', LATE).keys()];
    const changed = [ids[0] as string, ids[5] as string];
    for (const id of changed) stack.world.mutate(LATE, id);
    const lateId = stack.world.addIncident(LATE, { lastUpdate: new Date(Date.parse(checkpoint) - 60_000) });
    grantGraph(LATE);

    const r = await cli('collect', '--json', '--tenant', LATE);
    expect(r.code).toBe(0);
    const result = (JSON.parse(r.stdout) as CollectJson).tenants[0];
    // Exactly the three new versions: the overlap's Graph copies of stored versions are not new.
    expect(result).toMatchObject({ status: 'ok', incidentsChanged: 3 });
    expect((await tenantsJson()).get(LATE)?.source).toBe('graph');

    const after = await exportRows('--history', '--tenant', LATE);
    const key = (x: ExportRow) => `${x.incidentId}@${x.lastUpdateTime}`;
    const afterByKey = new Map(after.map((x) => [key(x), x]));
    // Every legacy version is still there, byte for byte, still marked m365d (the first copy stays).
    for (const old of before) expect(afterByKey.get(key(old))).toEqual(old);
    const added = after.filter((x) => !before.some((b) => key(b) === key(x)));
    expect(added.map((x) => x.incidentId).sort()).toEqual([...changed, lateId].sort());
    expect(added.every((x) => x.source === 'graph')).toBe(true);

    // The latest row follows the newest version whatever its source.
    const graphTruth = truth('graph', LATE);
    const legacyTruth = truth('m365d', LATE);
    const latest = await exportRows('--tenant', LATE);
    expect(latest.map((x) => x.incidentId).sort()).toEqual([...graphTruth.keys()].sort());
    for (const row of latest) {
      const fresh = [...changed, lateId].includes(row.incidentId);
      expect(row.source).toBe(fresh ? 'graph' : 'm365d');
      expect(row.incident).toEqual((fresh ? graphTruth : legacyTruth).get(row.incidentId));
    }

    // A further run writes nothing new.
    const again = JSON.parse((await cli('collect', '--json', '--tenant', LATE)).stdout) as CollectJson;
    expect(again.tenants[0]?.incidentsChanged).toBe(0);
  });

  it('tenants set-source pins, clears and refuses bad input', async () => {
    expect((await cli('tenants', 'set-source', PINNED, 'bogus')).code).toBe(2);
    const unknown = await cli('tenants', 'set-source', '5e000000-0000-4000-8000-0000000000ff', 'graph');
    expect(unknown.code).toBe(2);
    expect((await cli('tenants', 'set-source', PINNED, 'default')).code).toBe(0);
    expect((await tenantsJson()).get(PINNED)?.source).toBeNull();
    expect((await cli('tenants', 'set-source', PINNED, 'm365d')).code).toBe(0);
    expect((await tenantsJson()).get(PINNED)?.source).toBe('m365d');
    const filtered = JSON.parse((await cli('tenants', 'list', '--json', '--status', 'active')).stdout) as TenantJson[];
    expect(filtered.length).toBe(4);
    expect(JSON.parse((await cli('tenants', 'list', '--json', '--status', 'disabled')).stdout)).toEqual([]);
    expect((await cli('tenants', 'list', '--status', 'nonsense')).code).toBe(2);
  });

  it('the deadline on an injected clock: health degraded from 2027-01-01, SOURCE_RETIRED from 2027-02-01', async () => {
    const warnings: string[] = [];
    const logger: Logger = { ...silentLogger, warn: (event) => void warnings.push(event) };
    const servicesAt = (iso: string, source = 'auto') =>
      createServices(loadSettings({ ...env, INCIDENT_SOURCE: source }), {
        clock: { now: () => new Date(iso) },
        logger,
        env,
      });
    const healthOf = (s: ReturnType<typeof servicesAt>) =>
      checkHealth({
        runs: s.runs,
        logger: s.logger,
        tenants: s.tenants,
        clock: s.clock,
        defaultSource: s.sources.defaultSetting,
        staleAfterMinutes: s.settings.staleAfterMinutes,
      });

    // Before 2027-01-01: no legacy problem, no start-up warning even for m365d. (The runs of this suite finished a
    // month before these clocks, so health is also unhealthy with RUN_OVERDUE: only the legacy problem is looked at.)
    const codes = (h: Awaited<ReturnType<typeof healthOf>>) => h.problems.map((p) => p.code);
    const december = servicesAt('2026-12-31T23:59:59.999Z', 'm365d');
    expect(warnings).toEqual([]);
    expect(codes(await healthOf(december))).not.toContain('LEGACY_SOURCE_IN_USE');

    // From 2027-01-01: degraded, naming the count (only PINNED is still on the legacy API), never a tenant.
    servicesAt('2027-01-01T00:00:00.000Z', 'm365d');
    expect(warnings).toEqual(['settings.legacy_source_retiring']);
    const january = servicesAt('2027-01-05T00:00:00.000Z');
    const health = await healthOf(january);
    expect(health.problems.filter((p) => p.code === 'LEGACY_SOURCE_IN_USE')).toEqual([
      { code: 'LEGACY_SOURCE_IN_USE', message: expect.stringMatching(/^1 tenant still collects/) },
    ]);
    expect(JSON.stringify(health)).not.toMatch(/5e000000/);

    // The last millisecond before the retirement still collects from the legacy API.
    const lastDay = servicesAt('2027-01-31T23:59:59.999Z');
    const before = await runCollection(lastDay.runDeps(), { tenantIds: [PINNED], trigger: 'test' });
    expect(before.tenants[0]).toMatchObject({ status: 'ok' });

    const legacyCalls = stack.legacy.requests.length;
    const february = servicesAt('2027-02-01T00:00:00.000Z');
    const summary = await runCollection(february.runDeps(), { tenantIds: [PINNED, READY], trigger: 'test' });
    const byId = new Map(summary.tenants.map((t) => [t.tenantId, t]));
    expect(byId.get(READY)?.status).toBe('ok');
    expect(byId.get(PINNED)).toMatchObject({ status: 'failed', error: { code: 'SOURCE_RETIRED' } });
    expect(byId.get(PINNED)?.error?.message).toContain(`incident-collector tenants set-source ${PINNED} graph`);
    expect(stack.legacy.requests.length).toBe(legacyCalls); // not even a token for it was used on the legacy API
    const pinned = (await tenantsJson()).get(PINNED);
    expect(pinned).toMatchObject({ status: 'active', lastErrorCode: 'SOURCE_RETIRED', source: 'm365d' });
  });
});
