import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CollectorError } from '../../../shared/domain/errors.js';
import type { StoredSnapshot } from '../../../shared/ports.js';
import {
  byId,
  collect,
  countRows,
  historyAndEvents,
  fetched,
  graphIncident,
  newTenantId,
  startTables,
  type TableFixture,
} from './tableFixture.js';

let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables();
});

afterAll(async () => {
  await fx?.stop();
});

const history = (tenantId: string) => collect(fx.stores.snapshots.history({ tenantId }));
const latest = (tenantId: string) => collect(fx.stores.snapshots.latest({ tenantId }));

describe('TableSnapshotStore round trips', () => {
  it('round-trips a small incident through latest and history with its columns', async () => {
    const tenantId = newTenantId();
    const incident = graphIncident('2972395', '2026-11-20T08:15:30.1234567Z', 1200);
    const result = await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(incident)]);
    expect(result.changed).toBe(1);

    const [snap] = await latest(tenantId);
    expect(snap).toMatchObject({
      tenantId,
      incidentId: '2972395',
      lastUpdateTime: '2026-11-20T08:15:30.1234567Z',
      source: 'graph',
    });
    expect(JSON.stringify(snap?.incident)).toBe(JSON.stringify(incident));
    expect(snap?.contentHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Number.isNaN(Date.parse(snap?.snapshotAt ?? ''))).toBe(false);
    const hist = await history(tenantId);
    expect(hist).toHaveLength(1);
    expect(JSON.stringify(hist[0]?.incident)).toBe(JSON.stringify(incident));

    const row = await fx.stores.clients.client('incidents').getEntity(tenantId, '2972395');
    expect(row).toMatchObject({
      title: incident.displayName,
      status: 'active',
      severity: 'medium',
      source: 'graph',
      contentHash: snap?.contentHash,
    });
  });

  it('takes the title from incidentName for legacy incidents and stores numeric IDs as decimal strings', async () => {
    const tenantId = newTenantId();
    const incident = {
      incidentId: 924565,
      incidentName: 'Ransomware activity',
      status: 'Active',
      severity: 'Medium',
      lastUpdateTime: '2020-09-06T14:46:57.29Z',
      alerts: [],
    };
    await fx.stores.snapshots.writePage(tenantId, 'm365d', [fetched(incident, 'incidentId', 'lastUpdateTime')]);
    const row = await fx.stores.clients.client('incidents').getEntity(tenantId, '924565');
    expect(row).toMatchObject({ title: 'Ransomware activity', status: 'Active', severity: 'Medium', source: 'm365d' });
    const [snap] = await latest(tenantId);
    expect(snap?.incident).toEqual(incident);
    expect(() => JSON.stringify(snap)).not.toThrow();
  });

  it('round-trips a 5 MB poorly compressible incident byte for byte (payload split into PayloadChunks)', async () => {
    const tenantId = newTenantId();
    const incident = graphIncident('3100001', '2026-11-21T01:02:03.4567891Z', 5 * 1024 * 1024);
    const json = JSON.stringify(incident);
    expect(json.length).toBeGreaterThan(5_000_000);

    await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(incident)]);

    expect(await countRows(fx.stores.clients.client('chunks'), tenantId)).toBeGreaterThan(1);
    const [snap] = await latest(tenantId);
    expect(JSON.stringify(snap?.incident)).toBe(json);
    const [hist] = await history(tenantId);
    expect(JSON.stringify(hist?.incident)).toBe(json);
  });

  it('round-trips unicode: U+FFFD, emoji, surrogate pairs, a lone surrogate and control characters', async () => {
    const tenantId = newTenantId();
    const incident = {
      id: '77',
      lastUpdateDateTime: '2026-11-20T00:00:00Z',
      displayName: 'Ünïcødé \uFFFD 🛡️🔥 𝔘𝔫𝔦',
      recommendedActions: 'A\uFFFDB \u0000\u001f tab\t',
      lone: '\ud800x',
      nested: { '𝒳': ['😀', '\u2028\u2029'] },
    };
    await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(incident)]);
    const [snap] = await latest(tenantId);
    expect(JSON.stringify(snap?.incident)).toBe(JSON.stringify(incident));
    expect(snap?.incident).toEqual(incident);
  });

  it('stores incident IDs with characters that keys forbid, and returns the original IDs', async () => {
    const tenantId = newTenantId();
    const ids = ['a/b', 'c\\d', 'e#f', 'g?h', '100%', 'ctl\u0001x', "quo'te"];
    const page = ids.map((id) => fetched({ id, lastUpdateDateTime: '2026-11-20T00:00:00Z', displayName: id }));
    await fx.stores.snapshots.writePage(tenantId, 'graph', page);
    expect((await latest(tenantId)).map((s) => s.incidentId).sort()).toEqual([...ids].sort());
    expect((await history(tenantId)).map((s) => s.incidentId).sort()).toEqual([...ids].sort());
    // Idempotent for escaped keys too.
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', page)).changed).toBe(0);
  });
});

describe('TableSnapshotStore versions', () => {
  it('re-writing the same page adds no history rows and reports changed 0', async () => {
    const tenantId = newTenantId();
    const page = Array.from({ length: 30 }, (_, i) =>
      fetched(graphIncident(String(5000 + i), `2026-11-20T10:00:${String(i).padStart(2, '0')}.0000001Z`)),
    );
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', page)).changed).toBe(30);
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', page)).changed).toBe(0);
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 30,
      events: 30,
      other: 0,
    });
    expect(await countRows(fx.stores.clients.client('incidents'), tenantId)).toBe(30);
  });

  it('a changed incident adds one history row and updates latest', async () => {
    const tenantId = newTenantId();
    const v1 = graphIncident('6001', '2026-11-20T10:00:00.0000001Z');
    const v2 = { ...v1, status: 'resolved', lastUpdateDateTime: '2026-11-20T10:00:00.0000002Z' };
    await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(v1)]);
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(v2)])).changed).toBe(1);

    const hist = await history(tenantId);
    expect(hist.map((h) => h.lastUpdateTime)).toEqual(['2026-11-20T10:00:00.0000001Z', '2026-11-20T10:00:00.0000002Z']);
    const [snap] = await latest(tenantId);
    expect(snap?.incident).toEqual(v2);
    const row = await fx.stores.clients.client('incidents').getEntity(tenantId, '6001');
    expect(row.status).toBe('resolved');
  });

  it('an older version written after a newer one goes to history but never regresses latest', async () => {
    const tenantId = newTenantId();
    const newer = graphIncident('6002', '2026-11-20T12:00:00.5Z');
    const older = { ...newer, status: 'inProgress', lastUpdateDateTime: '2026-11-20T11:00:00Z' };
    await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(newer)]);
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(older)])).changed).toBe(1);
    // The stale version is in history now: writing it again is not new.
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(older)])).changed).toBe(0);

    const [snap] = await latest(tenantId);
    expect(snap?.lastUpdateTime).toBe('2026-11-20T12:00:00.5Z');
    expect(snap?.incident).toEqual(newer);
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 2,
      events: 2,
      other: 0,
    });
  });

  it('two versions of one incident in one page: both in history, latest gets the newest', async () => {
    const tenantId = newTenantId();
    const a = graphIncident('6003', '2026-11-20T09:00:00.0000009Z');
    const b = { ...a, severity: 'high', lastUpdateDateTime: '2026-11-20T09:00:00.000001Z' };
    expect((await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(b), fetched(a)])).changed).toBe(2);
    expect((await history(tenantId)).map((h) => h.incident.severity)).toEqual(['medium', 'high']);
    expect((await latest(tenantId))[0]?.incident).toEqual(b);
  });

  it('concurrent writers of different versions leave the newest as latest (ETag-guarded)', async () => {
    const tenantId = newTenantId();
    const base = graphIncident('6004', '2026-11-20T00:00:00Z');
    const versions = Array.from({ length: 8 }, (_, i) => ({
      ...base,
      comment: `v${i}`,
      lastUpdateDateTime: `2026-11-20T00:00:0${i}.0000001Z`,
    }));
    await Promise.all(
      [...versions].reverse().map((v) => fx.stores.snapshots.writePage(tenantId, 'graph', [fetched(v)])),
    );
    expect((await latest(tenantId))[0]?.incident).toEqual(versions[7]);
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 8,
      events: 8,
      other: 0,
    });
  });

  it('filters by since, inclusive and compared as instants across precisions', async () => {
    const tenantId = newTenantId();
    const times = ['2026-11-20T10:00:00.29Z', '2026-11-20T10:00:00.2900001Z', '2026-11-20T09:59:59.9999999Z'];
    await fx.stores.snapshots.writePage(
      tenantId,
      'm365d',
      times.map((t, i) => fetched({ incidentId: 700 + i, lastUpdateTime: t }, 'incidentId', 'lastUpdateTime')),
    );
    const since = (s: string) => collect(fx.stores.snapshots.latest({ tenantId, since: s }));
    expect((await since('2026-11-20T10:00:00.2900000Z')).map((s) => s.incidentId)).toEqual(['700', '701']);
    expect((await since('2026-11-20T11:00:00.29+01:00')).map((s) => s.incidentId)).toEqual(['700', '701']);
    expect((await since('2026-11-20T10:00:00.29000001Z')).map((s) => s.incidentId)).toEqual(['700', '701']);
    expect(
      (await collect(fx.stores.snapshots.history({ tenantId, since: '2026-11-20T10:00:00.2900001Z' }))).map(
        (s) => s.incidentId,
      ),
    ).toEqual(['701']);
  });

  it('lists every tenant ordered by tenant then incident when no tenant is given', async () => {
    const tenants = [newTenantId(), newTenantId()].sort();
    for (const t of tenants)
      await fx.stores.snapshots.writePage(t, 'graph', [
        fetched(graphIncident('2', '2026-11-20T00:00:00Z')),
        fetched(graphIncident('1', '2026-11-20T00:00:00Z')),
      ]);
    const all: StoredSnapshot[] = (await collect(fx.stores.snapshots.latest())).filter((s) =>
      tenants.includes(s.tenantId),
    );
    expect(all.map((s) => `${s.tenantId}/${s.incidentId}`)).toEqual([
      `${tenants[0]}/1`,
      `${tenants[0]}/2`,
      `${tenants[1]}/1`,
      `${tenants[1]}/2`,
    ]);
  });

  it('purgeTenant deletes the tenant from Incidents, IncidentHistory and PayloadChunks only', async () => {
    const [gone, kept] = [newTenantId(), newTenantId()];
    const page = [
      fetched(graphIncident('9001', '2026-11-20T00:00:00Z', 1_500_000)),
      ...Array.from({ length: 120 }, (_, i) => fetched(graphIncident(String(9100 + i), '2026-11-20T00:00:00Z'))),
    ];
    await fx.stores.snapshots.writePage(gone, 'graph', page);
    await fx.stores.snapshots.writePage(kept, 'graph', page.slice(0, 3));
    expect(await countRows(fx.stores.clients.client('chunks'), gone)).toBeGreaterThan(0);

    await fx.stores.snapshots.purgeTenant(gone);

    for (const table of ['incidents', 'history', 'chunks'] as const)
      expect(await countRows(fx.stores.clients.client(table), gone)).toBe(0);
    expect(byId(await latest(kept)).size).toBe(3);
    expect(JSON.stringify((await latest(kept)).find((s) => s.incidentId === '9001')?.incident)).toBe(
      JSON.stringify(page[0]?.incident),
    );
  });

  it('rejects a tenant ID that cannot be a key with a permanent CollectorError', async () => {
    await expect(
      fx.stores.snapshots.writePage('a/b', 'graph', [fetched(graphIncident('1', '2026-11-20T00:00:00Z'))]),
    ).rejects.toMatchObject({
      name: 'CollectorError',
      code: 'TABLE_INVALID_KEY',
      kind: 'permanent',
    });
    expect(new CollectorError('x', { code: 'c', kind: 'transient' })).toBeInstanceOf(Error);
  });
});

describe('TableSnapshotStore tenant IDs', () => {
  it('stores tenant IDs lower case, as the Tenants table does, whatever case the caller used', async () => {
    const tenantId = newTenantId();
    await fx.stores.snapshots.writePage(tenantId.toUpperCase(), 'graph', [
      fetched(graphIncident('42', '2026-11-20T00:00:00Z')),
    ]);
    const snaps = await collect(fx.stores.snapshots.latest({ tenantId: tenantId.toUpperCase() }));
    expect(snaps.map((s) => s.tenantId)).toEqual([tenantId]);
    await fx.stores.snapshots.purgeTenant(tenantId.toUpperCase());
    expect(await countRows(fx.stores.clients.client('incidents'), tenantId)).toBe(0);
  });
});
