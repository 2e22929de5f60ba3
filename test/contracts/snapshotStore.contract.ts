/**
 * The SnapshotStore behaviours collectTenant and the exports rely on: versions keyed by (incident, lastUpdate
 * instant), idempotent page writes, latest never regressing, `since` inclusive as instants, purge per tenant.
 */
import { describe, expect, it } from '@jest/globals';
import type { FetchedIncident, SnapshotStore, StoredSnapshot } from '../../shared/ports.js';
import { collect, newTenantId, writeThrough } from './ids.js';

function incident(id: string, lastUpdate: string, status = 'active'): FetchedIncident {
  return {
    incidentId: id,
    lastUpdateTime: lastUpdate,
    incident: { id, lastUpdateDateTime: lastUpdate, status, displayName: `Incident ${id}`, alerts: [{ id: `a${id}` }] },
  };
}

const versions = (rows: StoredSnapshot[]) => rows.map((r) => `${r.incidentId}@${r.lastUpdateTime}`).sort();

/** Register the SnapshotStore contract's tests; `store` returns the store under test (shared by the tests). */
export function snapshotStoreContract(name: string, store: () => SnapshotStore): void {
  describe(`SnapshotStore contract: ${name}`, () => {
    it('writes a page to latest and history, round-tripping the incident, keyed by the lower-case tenant', async () => {
      const tenant = newTenantId();
      const page = [incident('1', '2026-11-20T10:00:00.1234567Z'), incident('2', '2026-11-20T10:00:01Z')];
      expect(await store().writePage(tenant.toUpperCase(), 'graph', page)).toMatchObject({ changed: 2 });
      const latest = await collect(store().latest({ tenantId: tenant }));
      expect(latest.map((s) => [s.tenantId, s.incidentId, s.source, s.lastUpdateTime])).toEqual([
        [tenant, '1', 'graph', '2026-11-20T10:00:00.1234567Z'],
        [tenant, '2', 'graph', '2026-11-20T10:00:01Z'],
      ]);
      expect(latest[0]?.incident).toEqual(page[0]?.incident);
      expect(versions(await collect(store().history({ tenantId: tenant })))).toEqual(versions(latest));
    });

    it('re-writing the same page adds nothing and reports changed 0 (also through a writer)', async () => {
      const tenant = newTenantId();
      const page = [incident('1', '2026-11-20T10:00:00Z')];
      await store().writePage(tenant, 'graph', page);
      expect(await store().writePage(tenant, 'graph', page)).toMatchObject({ changed: 0 });
      const writer = store().writer?.(tenant);
      if (writer) expect(await writeThrough(writer, 'graph', page)).toMatchObject({ changed: 0 });
      expect(await collect(store().history({ tenantId: tenant }))).toHaveLength(1);
    });

    it('an empty page writes nothing', async () => {
      const tenant = newTenantId();
      expect(await store().writePage(tenant, 'graph', [])).toMatchObject({ changed: 0 });
      expect(await collect(store().latest({ tenantId: tenant }))).toEqual([]);
    });

    it('a new version adds a history row and replaces latest', async () => {
      const tenant = newTenantId();
      await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T10:00:00Z')]);
      expect(
        await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T11:00:00Z', 'resolved')]),
      ).toMatchObject({
        changed: 1,
      });
      const latest = await collect(store().latest({ tenantId: tenant }));
      expect(latest.map((s) => [s.lastUpdateTime, s.incident.status])).toEqual([['2026-11-20T11:00:00Z', 'resolved']]);
      expect(await collect(store().history({ tenantId: tenant }))).toHaveLength(2);
    });

    it('the same content under a later lastUpdateTime is not a new version', async () => {
      const tenant = newTenantId();
      const same = (at: string): FetchedIncident => ({ incidentId: '1', lastUpdateTime: at, incident: { id: '1' } });
      await store().writePage(tenant, 'graph', [same('2026-11-20T10:00:00Z')]);
      expect(await store().writePage(tenant, 'graph', [same('2026-11-20T11:00:00Z')])).toMatchObject({ changed: 0 });
      expect((await collect(store().latest({ tenantId: tenant }))).map((s) => s.lastUpdateTime)).toEqual([
        '2026-11-20T10:00:00Z',
      ]);
    });

    it('an older version written after a newer one goes to history but never regresses latest', async () => {
      const tenant = newTenantId();
      await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T11:00:00Z', 'resolved')]);
      expect(await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T10:00:00Z')])).toMatchObject({
        changed: 1,
      });
      const latest = await collect(store().latest({ tenantId: tenant }));
      expect(latest.map((s) => s.lastUpdateTime)).toEqual(['2026-11-20T11:00:00Z']);
      expect(versions(await collect(store().history({ tenantId: tenant })))).toEqual([
        '1@2026-11-20T10:00:00Z',
        '1@2026-11-20T11:00:00Z',
      ]);
      expect(await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T10:00:00Z')])).toMatchObject({
        changed: 0,
      });
    });

    it('two versions of one incident in one page: both in history, latest gets the newest', async () => {
      const tenant = newTenantId();
      await store().writePage(tenant, 'graph', [
        incident('1', '2026-11-20T11:00:00Z', 'resolved'),
        incident('1', '2026-11-20T10:00:00Z'),
      ]);
      expect((await collect(store().latest({ tenantId: tenant }))).map((s) => s.incident.status)).toEqual(['resolved']);
      expect(await collect(store().history({ tenantId: tenant }))).toHaveLength(2);
    });

    it("a collection's writer never regresses latest when another writer moved it on behind it", async () => {
      const tenant = newTenantId();
      const writer = store().writer?.(tenant) ?? {
        writePage: (source: 'graph' | 'm365d', page: readonly FetchedIncident[]) =>
          store().writePage(tenant, source, page),
        flush: async () => ({ changed: 0 }),
        pending: 0,
      };
      expect(await writeThrough(writer, 'graph', [incident('1', '2026-11-20T10:00:00Z')])).toMatchObject({
        changed: 1,
      });
      await store().writePage(tenant, 'graph', [incident('1', '2026-11-20T12:00:00Z', 'resolved')]);

      expect(await writeThrough(writer, 'graph', [incident('1', '2026-11-20T11:00:00Z', 'inProgress')])).toMatchObject({
        changed: 1,
      });

      const latest = await collect(store().latest({ tenantId: tenant }));
      expect(latest.map((s) => [s.lastUpdateTime, s.incident.status])).toEqual([['2026-11-20T12:00:00Z', 'resolved']]);
      expect(await collect(store().history({ tenantId: tenant }))).toHaveLength(3);
    });

    it('since is inclusive and compared as instants across precisions', async () => {
      const tenant = newTenantId();
      await store().writePage(tenant, 'graph', [
        incident('1', '2026-11-20T10:00:00.1234566Z'),
        incident('2', '2026-11-20T10:00:00.1234567Z'),
        incident('3', '2026-11-20T11:30:00+01:00'),
      ]);
      const since = await collect(store().latest({ tenantId: tenant, since: '2026-11-20T10:00:00.1234567Z' }));
      expect(since.map((s) => s.incidentId)).toEqual(['2', '3']);
    });

    it('without a tenant, rows of every tenant are listed', async () => {
      const [a, b] = [newTenantId(), newTenantId()];
      await store().writePage(a, 'graph', [incident('1', '2026-11-20T10:00:00Z')]);
      await store().writePage(b, 'm365d', [incident('1', '2026-11-20T10:00:00Z')]);
      const all = await collect(store().latest());
      expect(
        all
          .filter((s) => s.tenantId === a || s.tenantId === b)
          .map((s) => s.source)
          .sort(),
      ).toEqual(['graph', 'm365d']);
    });

    it('purgeTenant removes that tenant from latest and history only', async () => {
      const [a, b] = [newTenantId(), newTenantId()];
      await store().writePage(a, 'graph', [incident('1', '2026-11-20T10:00:00Z')]);
      await store().writePage(b, 'graph', [incident('1', '2026-11-20T10:00:00Z')]);
      await store().purgeTenant(a.toUpperCase());
      expect(await collect(store().latest({ tenantId: a }))).toEqual([]);
      expect(await collect(store().history({ tenantId: a }))).toEqual([]);
      expect(await collect(store().latest({ tenantId: b }))).toHaveLength(1);
    });
  });
}
