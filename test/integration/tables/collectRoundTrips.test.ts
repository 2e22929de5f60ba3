/**
 * collectTenant over the real Table adapters on Azurite (the source scripted, as the API would answer each window):
 * the Table round trips of a tenant with no change and with one, counted by a pipeline policy on the clients, and a
 * collection that fails while its writer holds rows: nothing held is lost, the checkpoint never passed it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CollectorError } from '../../../shared/domain/errors.js';
import { compareInstants } from '../../../shared/domain/time.js';
import type { FetchedIncident, IncidentPage, SyncWindow } from '../../../shared/ports.js';
import { collectTenant, type CollectDeps } from '../../../shared/usecases/collectTenant.js';
import { fakeWorld, type PageScript } from '../../fakes/index.js';
import { createRequestCounter } from './requestCounter.js';
import {
  byId,
  collect,
  fetched,
  graphIncident,
  historyAndEvents,
  newTenantId,
  startTables,
  type TableFixture,
} from './tableFixture.js';

const counter = createRequestCounter();
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ additionalPolicies: counter.additionalPolicies });
});

afterAll(async () => {
  await fx?.stop();
});

/** Minute `m` (0–59) of 2026-11-24T11, at Graph's 100 ns precision. */
const at = (m: number, s = 0) => `2026-11-24T11:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}.1234567Z`;

/** `count` incidents from ID `first`, one every 10 s from 11:00, `status` as given (a changed one has another). */
function incidents(count: number, first: number, status = 'active'): FetchedIncident[] {
  return Array.from({ length: count }, (_, i) =>
    fetched({ ...graphIncident(String(first + i), at(Math.floor(i / 6), (i % 6) * 10), 600), status }),
  );
}

/**
 * As Graph answers a window: the incidents with lastUpdate ≥ its start, ascending, in pages of 50; the last page
 * names the highest lastUpdate read as the checkpoint (one slice read whole).
 */
function graphLike(all: () => readonly FetchedIncident[]): PageScript {
  return {
    pages: (window: SyncWindow): IncidentPage[] => {
      const inWindow = all()
        .filter((i) => compareInstants(i.lastUpdateTime, window.from) >= 0)
        .sort((a, b) => compareInstants(a.lastUpdateTime, b.lastUpdateTime));
      const pages: IncidentPage[] = [];
      for (let i = 0; i < inWindow.length; i += 50) pages.push({ incidents: inWindow.slice(i, i + 50) });
      const last = pages.at(-1);
      const highest = inWindow.at(-1)?.lastUpdateTime;
      if (last && highest) pages[pages.length - 1] = { ...last, checkpoint: highest };
      return pages;
    },
  };
}

/** A world whose stores are the Table adapters; clock 11:59:30 (lag 60 s: the window ends 11:58:30). */
async function tableWorld(tenantId: string, script: PageScript) {
  const w = fakeWorld({ start: '2026-11-24T11:59:30.000Z', source: { scripts: { [tenantId]: script } } });
  const deps: CollectDeps = {
    ...w,
    tenants: fx.stores.tenants,
    leases: fx.stores.leases,
    snapshots: fx.stores.snapshots,
  };
  await fx.stores.tenants.upsert(tenantId, {
    displayName: 'Contoso',
    status: 'active',
    consentedAt: '2026-01-01T00:00:00.000Z',
  });
  return { w, deps };
}

const run = (deps: CollectDeps, tenantId: string, runId = 'run-1') =>
  collectTenant(deps, { tenantId, runId, owner: `run:${runId}/w` });

describe('Table round trips of one collection', () => {
  it('a tenant with no change costs 4: lease taken, tenant read, outcome written, lease released', async () => {
    const tenantId = newTenantId();
    const all = incidents(60, 5_000_000);
    const { deps } = await tableWorld(
      tenantId,
      graphLike(() => all),
    );
    expect(await run(deps, tenantId)).toMatchObject({ status: 'ok', incidentsChanged: 60 });
    const first = await fx.stores.tenants.get(tenantId);
    // The next window (from the checkpoint less the 5-minute overlap, 11:04:50.1234567) holds the last 31.
    expect(first?.checkpoint).toBe(at(9, 50));

    counter.reset();
    expect(await run(deps, tenantId, 'run-2')).toMatchObject({
      status: 'ok',
      incidentsFetched: 31,
      incidentsChanged: 0,
    });

    // No read of the latest rows (the writer knows the window's 31 records from the last collection) and no
    // checkpoint write (not later than the stored one): formerly also GET Incidents and a GET Tenants.
    expect(Object.fromEntries(counter.byKind)).toEqual({
      'POST Leases': 1,
      'GET Tenants': 1,
      'PATCH Tenants': 1,
      'DELETE Leases': 1,
    });
    const second = await fx.stores.tenants.get(tenantId);
    expect(second?.checkpoint).toBe(at(9, 50));
    expect(second?.lastSuccessAt).toBeDefined();
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 60,
      events: 60,
      other: 0,
    });
  });

  it('a changed incident, or one the last collection never saw, is read and written as before', async () => {
    const tenantId = newTenantId();
    let all = incidents(60, 5_100_000);
    const { deps } = await tableWorld(
      tenantId,
      graphLike(() => all),
    );
    await run(deps, tenantId);

    // One incident changes content at the same instant (the record differs, so its page is planned: the stored
    // latest row has this version, nothing is written), and one surfaces late with an older lastUpdate.
    all = [
      ...all.map((i) => (i.incidentId === '5100059' ? { ...i, incident: { ...i.incident, tags: ['other'] } } : i)),
      ...incidents(1, 5_100_900).map((i) => ({
        ...i,
        lastUpdateTime: at(8),
        incident: { ...i.incident, lastUpdateDateTime: at(8) },
      })),
    ];
    counter.reset();
    expect(await run(deps, tenantId, 'run-2')).toMatchObject({ status: 'ok', incidentsChanged: 1 });

    expect(counter.byKind.get('GET Incidents')).toBe(1);
    // The late incident: its history row with its event, then its latest row; the checkpoint did not move.
    expect(counter.byKind.get('POST $batch')).toBe(2);
    expect(counter.byKind.get('PATCH Tenants')).toBe(1);
    const latest = byId(await collect(fx.stores.snapshots.latest({ tenantId })));
    expect(latest.size).toBe(61);
    expect(latest.get('5100059')?.incident.tags).toEqual(['collector-test']);
  });

  it('a new version moves the checkpoint in the same write as the outcome', async () => {
    const tenantId = newTenantId();
    let all = incidents(12, 5_200_000);
    const { deps } = await tableWorld(
      tenantId,
      graphLike(() => all),
    );
    await run(deps, tenantId);

    all = [...all.slice(1), fetched({ ...graphIncident('5200000', at(30), 600), status: 'resolved' })];
    counter.reset();
    expect(await run(deps, tenantId, 'run-2')).toMatchObject({ status: 'ok', incidentsChanged: 1 });

    // One conditional Merge carries the outcome and the new checkpoint (formerly a checkpoint write and a patch).
    expect(counter.byKind.get('PATCH Tenants')).toBe(1);
    expect(counter.byKind.get('GET Tenants')).toBe(1);
    expect((await fx.stores.tenants.get(tenantId))?.checkpoint).toBe(at(30));
    expect(byId(await collect(fx.stores.snapshots.latest({ tenantId }))).get('5200000')?.incident.status).toBe(
      'resolved',
    );
  });
});

describe('a collection failing while its writer holds rows', () => {
  it('writes none of them and keeps the checkpoint before them; the rerun writes each version once', async () => {
    const tenantId = newTenantId();
    const all = incidents(80, 5_300_000);
    // Page 1 (50) and page 2 (30, the slice's checkpoint) are held together (80 < 100); page 3 fails.
    const pages: IncidentPage[] = [
      { incidents: all.slice(0, 50) },
      { incidents: all.slice(50, 80), checkpoint: all[79]!.lastUpdateTime },
      { incidents: incidents(5, 5_300_100) },
    ];
    const failing = new CollectorError('Service unavailable (HTTP_503).', { code: 'HTTP_503', kind: 'transient' });
    const { w, deps } = await tableWorld(tenantId, { pages, failAt: { page: 3, error: failing } });

    counter.reset();
    expect(await run(deps, tenantId)).toMatchObject({ status: 'failed', error: { code: 'HTTP_503' } });

    expect(counter.byKind.get('POST $batch')).toBeUndefined();
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 0,
      events: 0,
      other: 0,
    });
    expect((await fx.stores.tenants.get(tenantId))?.checkpoint).toBeUndefined();

    w.source.script(tenantId, { pages });
    expect(await run(deps, tenantId, 'run-2')).toMatchObject({ status: 'ok', incidentsChanged: 85 });
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 85,
      events: 85,
      other: 0,
    });
    expect((await fx.stores.tenants.get(tenantId))?.checkpoint).toBe(all[79]!.lastUpdateTime);
  });
});
