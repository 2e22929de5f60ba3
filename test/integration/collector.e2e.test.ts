/**
 * The collector end to end, for both sources: the real CLI, real adapters (got, @azure/identity,
 * @azure/keyvault-secrets, @azure/data-tables) against Azurite and the HTTPS simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';
import { compareInstants } from '../../shared/domain/time.js';

type Source = 'graph' | 'm365d';

interface ExportRow {
  tenantId: string;
  incidentId: string;
  lastUpdateTime: string;
  source: string;
  snapshotAt: string;
  incident: Record<string, unknown>;
}

interface CollectJson {
  runId: string;
  tenants: {
    tenantId: string;
    status: string;
    incidentsFetched: number;
    incidentsChanged: number;
    pages: number;
    error?: { code: string; message: string };
  }[];
}

const T = [
  '0a1b2c3d-0000-4000-8000-00000000000a',
  '0a1b2c3d-0000-4000-8000-00000000000b',
  '0a1b2c3d-0000-4000-8000-00000000000c',
] as const;

function idOf(source: Source, incident: Record<string, unknown>): string {
  return String(source === 'graph' ? incident.id : incident.incidentId);
}

function truth(stack: LocalStack, source: Source, tenantId: string): Map<string, Record<string, unknown>> {
  const list = source === 'graph' ? stack.world.graphIncidents(tenantId) : stack.world.legacyIncidents(tenantId);
  return new Map(list.map((i) => [idOf(source, i), i]));
}

function lastUpdateOf(source: Source, incident: Record<string, unknown>): string {
  return String(source === 'graph' ? incident.lastUpdateDateTime : incident.lastUpdateTime);
}

describe.each<Source>(['graph', 'm365d'])('collector end to end (%s)', (source) => {
  let stack: LocalStack;
  let env: Record<string, string>;

  const cli = (...argv: string[]) => runCli(argv, env);
  const collect = async (...extra: string[]) => {
    const r = await cli('collect', '--json', ...extra);
    return { ...r, json: JSON.parse(r.stdout) as CollectJson };
  };
  const exportRows = async (...extra: string[]) => {
    const r = await cli('incidents', 'export', ...extra);
    expect(r.code).toBe(0);
    return ndjson<ExportRow>(r.stdout);
  };
  const expectStoreEqualsTruth = async (tenantId: string) => {
    const rows = await exportRows('--tenant', tenantId);
    const expected = truth(stack, source, tenantId);
    expect(rows.map((r) => r.incidentId).sort()).toEqual([...expected.keys()].sort());
    for (const row of rows) {
      expect(row.incident).toEqual(expected.get(row.incidentId));
      expect(row).toMatchObject({ tenantId, source, lastUpdateTime: lastUpdateOf(source, row.incident) });
      expect(Number.isNaN(Date.parse(row.snapshotAt))).toBe(false);
    }
    return rows;
  };

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [
        { tenantId: T[0], displayName: 'Contoso', incidents: 120 },
        { tenantId: T[1], displayName: 'Fabrikam', incidents: 30 },
        { tenantId: T[2], displayName: 'Northwind', incidents: 5 },
      ],
    });
    stack.trustInProcess();
    env = { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0', TENANT_CONCURRENCY: '4' };
    for (const [i, t] of T.entries()) {
      const r = await cli('tenants', 'add', t, '--name', ['Contoso', 'Fabrikam', 'Northwind'][i] as string);
      expect(r.code).toBe(0);
    }
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('collects three tenants; the export equals the API field for field, alerts included', async () => {
    const run = await collect();
    expect(run.code).toBe(0);
    expect(run.json.tenants.map((t) => [t.tenantId, t.status]).sort()).toEqual(T.map((t) => [t, 'ok']));
    const contoso = run.json.tenants.find((t) => t.tenantId === T[0]);
    expect(contoso?.incidentsChanged).toBe(120);
    expect(contoso?.pages).toBeGreaterThanOrEqual(source === 'graph' ? 3 : 2);
    for (const t of T) await expectStoreEqualsTruth(t);
    const sample = (await exportRows('--tenant', T[0]))[0];
    expect(Array.isArray(sample?.incident.alerts) && (sample?.incident.alerts as unknown[]).length > 0).toBe(true);

    const list = await cli('tenants', 'list', '--json');
    const tenants = JSON.parse(list.stdout) as {
      tenantId: string;
      status: string;
      watermark: string | null;
      lastSuccessAt: string | null;
    }[];
    for (const t of tenants) {
      expect(t.status).toBe('active');
      expect(t.watermark).not.toBeNull();
      expect(t.lastSuccessAt).not.toBeNull();
    }
    // The checkpoint is the API's own string of the newest incident written.
    const newest = [...truth(stack, source, T[0]).values()]
      .map((i) => lastUpdateOf(source, i))
      .sort(compareInstants)
      .at(-1);
    expect(tenants.find((t) => t.tenantId === T[0])?.watermark).toBe(newest);
  });

  it('a second run with nothing changed writes no history rows', async () => {
    const before = (await exportRows('--history')).length;
    const run = await collect();
    expect(run.code).toBe(0);
    expect(run.json.tenants.every((t) => t.incidentsChanged === 0)).toBe(true);
    expect((await exportRows('--history')).length).toBe(before);
  });

  it('a changed incident gets a new history row and an updated latest row', async () => {
    const id = [...truth(stack, source, T[1]).keys()][3] as string;
    stack.world.mutate(T[1], id);
    const before = (await exportRows('--history', '--tenant', T[1])).filter((r) => r.incidentId === id);
    expect(before).toHaveLength(1);
    const run = await collect('--tenant', T[1]);
    expect(run.json.tenants).toHaveLength(1);
    expect(run.json.tenants[0]).toMatchObject({ tenantId: T[1], status: 'ok', incidentsChanged: 1 });
    const after = (await exportRows('--history', '--tenant', T[1])).filter((r) => r.incidentId === id);
    expect(after).toHaveLength(2);
    await expectStoreEqualsTruth(T[1]);
  });

  it('an incident updated while a run is paging is collected by the next run', async () => {
    const ids = [...truth(stack, source, T[0]).keys()];
    const victim = ids[0] as string;
    let mutated = false;
    let listCalls = 0;
    const sim = source === 'graph' ? stack.graph : stack.legacy;
    // Mutate on the second list call: after the first page was served, before the rest.
    sim.onRequest = (req) => {
      if (req.path.endsWith('/incidents') && ++listCalls === 2 && !mutated) {
        mutated = true;
        stack.world.mutate(T[0], victim);
      }
    };
    try {
      const first = await collect('--tenant', T[0], '--since', new Date(Date.now() - 7 * 86400_000).toISOString());
      expect(first.code).toBe(0);
    } finally {
      sim.onRequest = undefined;
    }
    expect(mutated).toBe(true);
    const second = await collect('--tenant', T[0]);
    expect(second.code).toBe(0);
    await expectStoreEqualsTruth(T[0]);
  });

  it('a late-arriving incident within the overlap is collected', async () => {
    const lateId = stack.world.addIncident(T[2], { lastUpdate: new Date(Date.now() - 120_000) });
    const run = await collect('--tenant', T[2]);
    expect(run.json.tenants[0]?.incidentsChanged).toBe(1);
    const rows = await expectStoreEqualsTruth(T[2]);
    expect(rows.some((r) => r.incidentId === lateId)).toBe(true);
  });

  it('an incident whose JSON is 5 MB round-trips unchanged', async () => {
    const bigId = stack.world.addIncident(T[2], { sizeBytes: 5 * 1024 * 1024 });
    const run = await collect('--tenant', T[2]);
    expect(run.code).toBe(0);
    const rows = await exportRows('--tenant', T[2]);
    const big = rows.find((r) => r.incidentId === bigId);
    expect(JSON.stringify(big?.incident).length).toBeGreaterThan(5_000_000);
    expect(big?.incident).toEqual(truth(stack, source, T[2]).get(bigId));
  });

  it('export --since is inclusive on lastUpdateTime', async () => {
    const all = await exportRows('--tenant', T[0]);
    const times = all.map((r) => r.lastUpdateTime).sort(compareInstants);
    const pivot = times[Math.floor(times.length / 2)] as string;
    const since = await exportRows('--tenant', T[0], '--since', pivot);
    expect(since.length).toBe(times.filter((t) => compareInstants(t, pivot) >= 0).length);
    expect(since.some((r) => r.lastUpdateTime === pivot)).toBe(true);
  });
});
