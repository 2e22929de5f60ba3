/**
 * collectTenant with rejected records (issue 10 §3), on in-memory fakes of the ports: the page's good incidents are
 * written, the checkpoint advances after the write, the rejected records go to the quarantine (the tenant counts
 * the new ones), and without a quarantine store the tenant fails rather than dropping them.
 */
import { describe, expect, it } from '@jest/globals';
import { collectTenant, type CollectDeps } from '../../../shared/usecases/collectTenant.js';
import type {
  FetchedIncident,
  IncidentPage,
  QuarantineStore,
  RejectedRecord,
  TenantPatch,
  TenantRecord,
} from '../../../shared/ports.js';

const TENANT = '2d000000-0000-4000-8000-000000000001';
const NOW = new Date('2026-06-01T12:00:00Z');

function incident(id: string, t: string): FetchedIncident {
  return { incidentId: id, lastUpdateTime: t, incident: { id, lastUpdateDateTime: t } };
}

function fakes(pages: IncidentPage[], quarantine?: QuarantineStore) {
  const events: string[] = [];
  let tenant: TenantRecord = { tenantId: TENANT, displayName: 't', status: 'active', consecutiveFailures: 0 };
  const update = async (_id: string, patch: TenantPatch) => {
    if (patch.incidentsRejected !== undefined) events.push(`tenant.incidentsRejected=${patch.incidentsRejected}`);
    const { source: _source, ...rest } = patch;
    tenant = { ...tenant, ...rest };
    return tenant;
  };
  const deps: CollectDeps = {
    tenants: {
      get: async () => tenant,
      list: async () => [tenant],
      upsert: async () => tenant,
      update,
      patch: async (id: string, patch: TenantPatch) => void (await update(id, patch)),
      advanceCheckpoint: async (_id: string, checkpoint: string) => {
        events.push(`checkpoint ${checkpoint}`);
        tenant = { ...tenant, checkpoint };
        return checkpoint;
      },
      patchWithCheckpoint: async (id: string, patch: TenantPatch, checkpoint: string) => {
        events.push(`checkpoint ${checkpoint}`);
        tenant = { ...tenant, checkpoint };
        await update(id, patch);
        return checkpoint;
      },
      delete: async () => {},
    },
    leases: {
      acquire: async (tenantId, owner) => ({
        tenantId,
        owner,
        expiresAt: new Date(NOW.getTime() + 600_000).toISOString(),
      }),
      renew: async (lease) => lease,
      release: async () => {},
      holder: async () => undefined,
    },
    snapshots: {
      writePage: async (_t, _s, incidents) => {
        events.push(`write ${incidents.map((i) => i.incidentId).join(',')}`);
        return { changed: incidents.length };
      },
      latest: async function* () {},
      history: async function* () {},
      purgeTenant: async () => {},
    },
    source: {
      kind: 'graph',
      scope: 'https://graph.example/.default',
      readRoles: [],
      pages: async function* () {
        yield* pages;
      },
      probe: async () => {},
    },
    tokens: { getToken: async () => 'token' },
    clock: { now: () => NOW },
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    sync: { overlapSeconds: 300, lagSeconds: 0, initialLookbackDays: 30, reprobeHours: 24 },
    ...(quarantine ? { quarantine } : {}),
  };
  return { deps, events, tenant: () => tenant };
}

/** A quarantine that keeps each raw JSON text once. */
function memoryQuarantine(events: string[]): QuarantineStore {
  const kept = new Set<string>();
  return {
    keep: async (_t, _s, runId, records: readonly RejectedRecord[]) => {
      let n = 0;
      for (const r of records) {
        const key = JSON.stringify(r.raw);
        if (!kept.has(key)) {
          kept.add(key);
          n++;
        }
      }
      events.push(`quarantine ${records.length} (${n} new) in ${runId}`);
      return n;
    },
    list: async function* () {},
  };
}

const poisonPage: IncidentPage = {
  incidents: [incident('1', '2026-06-01T10:00:00Z'), incident('2', '2026-06-01T10:01:00Z')],
  rejected: [{ raw: { id: '3', lastUpdateDateTime: null }, reason: "'lastUpdateDateTime' is null" }],
  checkpoint: '2026-06-01T10:01:00Z',
};

describe('collectTenant with rejected records', () => {
  it('writes the good incidents, quarantines the bad record, then advances the checkpoint', async () => {
    const events: string[] = [];
    const f = fakes([poisonPage], memoryQuarantine(events));
    const result = await collectTenant(f.deps, { tenantId: TENANT, runId: 'run-1', owner: 'test' });
    expect(events).toEqual(['quarantine 1 (1 new) in run-1']);
    expect(result).toMatchObject({ status: 'ok', incidentsFetched: 2, incidentsChanged: 2, incidentsRejected: 1 });
    expect(f.events).toEqual(['write 1,2', 'tenant.incidentsRejected=1', 'checkpoint 2026-06-01T10:01:00Z']);
    expect(f.tenant()).toMatchObject({ status: 'active', incidentsRejected: 1, consecutiveFailures: 0 });
  });

  it('a record kept before is counted in the run again but not on the tenant', async () => {
    const events: string[] = [];
    const quarantine = memoryQuarantine(events);
    const f = fakes([poisonPage, poisonPage], quarantine);
    const result = await collectTenant(f.deps, { tenantId: TENANT, runId: 'run-1', owner: 'test' });
    expect(result.incidentsRejected).toBe(2);
    expect(f.tenant().incidentsRejected).toBe(1);
    expect(events).toEqual(['quarantine 1 (1 new) in run-1', 'quarantine 1 (0 new) in run-1']);
  });

  it('without a quarantine store the tenant fails (QUARANTINE_UNAVAILABLE) and the checkpoint stays', async () => {
    const f = fakes([poisonPage]);
    const result = await collectTenant(f.deps, { tenantId: TENANT, runId: 'run-1', owner: 'test' });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'QUARANTINE_UNAVAILABLE' } });
    expect(f.events).toEqual(['write 1,2']);
    expect(f.tenant().checkpoint).toBeUndefined();
  });

  it('a run without rejected records has no incidentsRejected field (the contract is unchanged)', async () => {
    const f = fakes([{ incidents: [incident('1', '2026-06-01T10:00:00Z')], checkpoint: '2026-06-01T10:00:00Z' }]);
    const result = await collectTenant(f.deps, { tenantId: TENANT, runId: 'run-1', owner: 'test' });
    expect(result.status).toBe('ok');
    expect('incidentsRejected' in result).toBe(false);
  });
});
