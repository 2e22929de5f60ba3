/**
 * The per-tenant source choice and the legacy deadline, with in-memory fakes of the ports (no network): the tenant's
 * column wins, `auto` falls back to the legacy API only for a missing Graph role and pins Graph once ready,
 * SOURCE_RETIRED from 2027-02-01 by the injected clock; health counts (never names) tenants on the legacy API.
 */
import { describe, expect, it } from '@jest/globals';
import { CollectorError } from '../../../shared/domain/errors.js';
import { silentLogger } from '../../../shared/log.js';
import type {
  IncidentSource,
  RunStore,
  SourceKind,
  SourceSetting,
  TenantPatch,
  TenantRecord,
  TenantStore,
  TokenProvider,
} from '../../../shared/ports.js';
import { checkHealth, collectsFromLegacy } from '../../../shared/usecases/health.js';
import { chooseSource, SOURCE_RETIRED } from '../../../shared/usecases/sourceChoice.js';

const ID = '7a000000-0000-4000-8000-000000000001';

function fakeSource(kind: SourceKind): IncidentSource {
  return {
    kind,
    scope: `${kind}/.default`,
    readRoles: [],
    pages: async function* () {},
    probe: async () => undefined,
  };
}

function tokens(calls: string[], kind: SourceKind, failure?: CollectorError): TokenProvider {
  return {
    getToken: async (tenantId) => {
      calls.push(`${kind}:${tenantId}`);
      if (failure) throw failure;
      return 'token';
    },
  };
}

function memoryTenants(initial: TenantRecord[]): TenantStore & { rows: Map<string, TenantRecord> } {
  const rows = new Map(initial.map((t) => [t.tenantId, t]));
  const update = async (id: string, patch: TenantPatch) => {
    const current = rows.get(id) as TenantRecord;
    const { source, ...rest } = patch;
    const next = { ...current, ...rest } as TenantRecord & { source?: SourceKind };
    if (source === '') delete next.source;
    else if (source !== undefined) next.source = source;
    rows.set(id, next);
    return next;
  };
  return {
    rows,
    get: async (id) => rows.get(id),
    list: async () => [...rows.values()],
    upsert: update,
    update,
    patch: async (id, patch) => void (await update(id, patch)),
    advanceCheckpoint: async () => undefined,
    patchWithCheckpoint: async (id, patch) => void (await update(id, patch)),
    delete: async (id) => void rows.delete(id),
  };
}

const tenant = (extra: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: ID,
  displayName: 'T',
  status: 'active',
  consecutiveFailures: 0,
  ...extra,
});

function deps(options: { setting: SourceSetting; now: string; graphFails?: CollectorError; record?: TenantRecord }) {
  const calls: string[] = [];
  const store = memoryTenants([options.record ?? tenant()]);
  const pairs = {
    graph: { source: fakeSource('graph'), tokens: tokens(calls, 'graph', options.graphFails) },
    m365d: { source: fakeSource('m365d'), tokens: tokens(calls, 'm365d') },
  };
  return {
    calls,
    store,
    deps: {
      source: pairs.graph.source,
      tokens: pairs.graph.tokens,
      sources: { defaultSetting: options.setting, sourceFor: (k: SourceKind) => pairs[k] },
      tenants: store,
      clock: { now: () => new Date(options.now) },
      logger: silentLogger,
    },
  };
}

const noRole = new CollectorError('no role', { code: 'MISSING_ROLE', kind: 'missing_permissions' });

describe('chooseSource', () => {
  it("the tenant's own column wins over INCIDENT_SOURCE", async () => {
    const d = deps({ setting: 'graph', now: '2026-12-01T00:00:00Z', record: tenant({ source: 'm365d' }) });
    expect((await chooseSource(d.deps, tenant({ source: 'm365d' }))).kind).toBe('m365d');
    expect(d.calls).toEqual([`m365d:${ID}`]);
  });

  it('auto: legacy while Graph lacks the role; Graph (pinned in the column) once it has it', async () => {
    const before = deps({ setting: 'auto', now: '2026-12-01T00:00:00Z', graphFails: noRole });
    expect((await chooseSource(before.deps, tenant())).kind).toBe('m365d');
    expect(before.store.rows.get(ID)?.source).toBeUndefined();
    expect(before.calls).toEqual([`graph:${ID}`, `m365d:${ID}`]);

    const after = deps({ setting: 'auto', now: '2026-12-01T00:00:00Z' });
    const chosen = await chooseSource(after.deps, tenant());
    expect(chosen.kind).toBe('graph');
    expect(chosen.tenant.source).toBe('graph');
    expect(after.store.rows.get(ID)?.source).toBe('graph');
  });

  it('auto: a Graph failure other than a missing role is the tenant failure (no legacy fallback)', async () => {
    const revoked = new CollectorError('gone', { code: 'AADSTS700016', kind: 'consent_revoked' });
    const d = deps({ setting: 'auto', now: '2026-12-01T00:00:00Z', graphFails: revoked });
    await expect(chooseSource(d.deps, tenant())).rejects.toBe(revoked);
    expect(d.calls).toEqual([`graph:${ID}`]);
  });

  it('SOURCE_RETIRED from 2027-02-01T00:00:00Z (injected clock), with the command that moves the tenant', async () => {
    const last = deps({ setting: 'm365d', now: '2027-01-31T23:59:59.999Z' });
    expect((await chooseSource(last.deps, tenant())).kind).toBe('m365d');
    for (const setting of ['m365d', 'auto'] as const) {
      const d = deps({ setting, now: '2027-02-01T00:00:00.000Z', graphFails: noRole });
      const error = await chooseSource(d.deps, tenant()).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: SOURCE_RETIRED });
      expect((error as Error).message).toContain(`incident-collector tenants set-source ${ID} graph`);
      expect(d.calls.filter((c) => c.startsWith('m365d'))).toEqual([]);
    }
  });
});

describe('health and the legacy deadline', () => {
  const runs = { lastFinished: async () => undefined } as unknown as RunStore;
  const fleet = [
    tenant({ tenantId: 'a', source: 'm365d' }),
    tenant({ tenantId: 'b' }),
    tenant({ tenantId: 'c', source: 'graph' }),
    tenant({ tenantId: 'd', status: 'disabled', source: 'm365d' }),
  ];

  it('counts collecting tenants whose source is not Graph', () => {
    expect(fleet.filter((t) => collectsFromLegacy(t, 'graph')).map((t) => t.tenantId)).toEqual(['a']);
    expect(fleet.filter((t) => collectsFromLegacy(t, 'auto')).map((t) => t.tenantId)).toEqual(['a', 'b']);
  });

  it('is ok before 2027-01-01 and degraded from it, naming the count and no tenant', async () => {
    const at = (iso: string) =>
      checkHealth({
        runs,
        logger: silentLogger,
        tenants: memoryTenants(fleet),
        clock: { now: () => new Date(iso) },
        defaultSource: 'auto',
        staleAfterMinutes: 150,
      });
    // No run has finished and the tenants carry no registration time: NO_RUN_YET is the one other problem.
    expect((await at('2026-12-31T23:59:59.999Z')).problems.map((p) => p.code)).toEqual(['NO_RUN_YET']);
    const degraded = await at('2027-01-01T00:00:00.000Z');
    expect(degraded.status).toBe('degraded');
    const legacy = degraded.problems.find((p) => p.code === 'LEGACY_SOURCE_IN_USE');
    expect(legacy?.message).toMatch(/^2 tenants still collect from the legacy incidents API/);
    expect(JSON.stringify(degraded)).not.toMatch(/"a"|"b"/);
  });
});
