/**
 * The change feed's contract (design §9), through the snapshot store that records it and the EventLog that reads
 * it: one event per new version and none for a re-read, types and sequence order, the CloudEvent's shape (stable
 * ids, changedFields/previous on both sources with alerts as a set, truncation above 1 MiB), paging by sequence,
 * and history() unchanged by the event rows.
 */
import { describe, expect, it } from '@jest/globals';
import type { EventLog, FetchedIncident, JsonObject, SnapshotStore } from '../../shared/ports.js';
import type { ManualClock } from '../fakes/clock.js';
import { collect, newTenantId, writeThrough } from './ids.js';

export interface EventLogSubject {
  readonly store: SnapshotStore;
  readonly events: EventLog;
  readonly clock: ManualClock;
}

function graph(id: string, at: string, fields: JsonObject = {}): FetchedIncident {
  const incident: JsonObject = {
    id,
    lastUpdateDateTime: at,
    status: 'active',
    severity: 'medium',
    displayName: `Incident ${id}`,
    assignedTo: null,
    alerts: [
      { id: `da${id}_1`, status: 'new' },
      { id: `da${id}_2`, status: 'new' },
    ],
    ...fields,
  };
  return { incidentId: id, lastUpdateTime: at, incident };
}

function legacy(id: number, at: string, fields: JsonObject = {}): FetchedIncident {
  const incident: JsonObject = {
    incidentId: id,
    incidentName: `Legacy ${id}`,
    lastUpdateTime: at,
    status: 'Active',
    severity: 'High',
    alerts: [{ alertId: `fa${id}_1`, status: 'New' }],
    ...fields,
  };
  return { incidentId: String(id), lastUpdateTime: at, incident };
}

/** Register the EventLog contract's tests; `subject` returns the store, its event log and their clock. */
export function eventLogContract(name: string, subject: () => EventLogSubject): void {
  describe(`EventLog contract: ${name}`, () => {
    const all = async (tenant: string) => subject().events.read(tenant, -1, 1000);

    it('records one incident.created per new incident, in sequence order, with the CloudEvent of §9', async () => {
      const { store, events, clock } = subject();
      const tenant = newTenantId();
      const page = [graph('11', '2026-11-20T10:00:00.1234567Z'), graph('12', '2026-11-20T10:00:01Z')];
      const result = await store.writePage(tenant.toUpperCase(), 'graph', page);
      expect(result.changed).toBe(2);
      const entries = await all(tenant);
      expect(entries.map((e) => [e.incidentId, e.type, e.severity])).toEqual([
        ['11', 'incident.created', 'medium'],
        ['12', 'incident.created', 'medium'],
      ]);
      expect(result.events?.map((e) => e.sequence)).toEqual(entries.map((e) => e.sequence));
      const [first, second] = entries;
      expect(first!.sequence).toBeLessThan(second!.sequence);
      expect(Number.isSafeInteger(second!.sequence)).toBe(true);
      expect(first).toMatchObject({
        tenantId: tenant,
        lastUpdateTime: '2026-11-20T10:00:00.1234567Z',
        time: clock.iso(),
      });

      const event = await events.cloudEvent(first!);
      expect(event).toEqual({
        specversion: '1.0',
        id: `${tenant}/11/2026-11-20T10:00:00.1234567Z`,
        source: `/tenants/${tenant}`,
        type: 'incident.created',
        subject: 'incidents/11',
        time: clock.iso(),
        datacontenttype: 'application/json',
        data: {
          tenantId: tenant,
          incidentId: '11',
          lastUpdateTime: '2026-11-20T10:00:00.1234567Z',
          source: 'graph',
          sequence: first!.sequence,
          severity: 'medium',
          status: 'active',
          title: 'Incident 11',
          incident: page[0]!.incident,
        },
      });
    });

    it('lastSequence is the highest sequence written (undefined before the first event), per tenant', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      const other = newTenantId();
      expect(await events.lastSequence(tenant)).toBeUndefined();
      await store.writePage(tenant, 'graph', [
        graph('31', '2026-11-20T10:00:00Z'),
        graph('32', '2026-11-20T10:01:00Z'),
      ]);
      await store.writePage(other, 'graph', [graph('33', '2026-11-20T10:02:00Z')]);
      await store.writePage(tenant, 'graph', [graph('34', '2026-11-20T10:03:00Z')]);
      const entries = await all(tenant);
      expect(entries).toHaveLength(3);
      expect(await events.lastSequence(tenant.toUpperCase())).toBe(entries.at(-1)!.sequence);
      expect(await events.lastSequence(other)).toBe((await all(other)).at(-1)!.sequence);
    });

    it('re-writing a page, an overlap re-read and a writer re-run add no event; ids stay stable', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      const page = [graph('21', '2026-11-20T10:00:00Z'), graph('22', '2026-11-20T10:05:00Z')];
      await store.writePage(tenant, 'graph', page);
      const before = await all(tenant);
      const ids = await Promise.all(before.map(async (e) => (await events.cloudEvent(e)).id));
      expect((await store.writePage(tenant, 'graph', page)).changed).toBe(0);
      const writer = store.writer?.(tenant);
      if (writer)
        expect((await writeThrough(writer, 'graph', [page[1]!, graph('23', '2026-11-20T10:06:00Z')])).changed).toBe(1);
      else await store.writePage(tenant, 'graph', [page[1]!, graph('23', '2026-11-20T10:06:00Z')]);
      const after = await all(tenant);
      expect(after.slice(0, 2)).toEqual(before);
      expect(after.map((e) => e.incidentId)).toEqual(['21', '22', '23']);
      expect(await Promise.all(after.slice(0, 2).map(async (e) => (await events.cloudEvent(e)).id))).toEqual(ids);
    });

    it('an unchanged re-read (same content, later lastUpdate) is no new version and no event', async () => {
      const { store } = subject();
      const tenant = newTenantId();
      const same = (at: string): FetchedIncident => ({ incidentId: '1', lastUpdateTime: at, incident: { id: '1' } });
      await store.writePage(tenant, 'graph', [same('2026-11-20T10:00:00Z')]);
      await store.writePage(tenant, 'graph', [same('2026-11-20T11:00:00Z')]);
      expect(await all(tenant)).toHaveLength(1);
    });

    it('incident.updated carries changedFields and previous (Graph; alerts as a set by id)', async () => {
      const { store, events, clock } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'graph', [graph('31', '2026-11-20T10:00:00Z')]);
      clock.advance(60_000);
      // Reordered alerts are no change; a status change, a new key and a removed key are.
      const v2 = graph('31', '2026-11-20T11:00:00Z', {
        status: 'resolved',
        classification: 'truePositive',
        alerts: [
          { id: 'da31_2', status: 'new' },
          { id: 'da31_1', status: 'new' },
        ],
      });
      delete v2.incident.assignedTo;
      await store.writePage(tenant, 'graph', [v2]);
      const [, update] = await all(tenant);
      expect(update?.type).toBe('incident.updated');
      const event = await events.cloudEvent(update!);
      expect(event.type).toBe('incident.updated');
      expect(event.time).toBe(clock.iso());
      expect(event.data.changedFields).toEqual(['assignedTo', 'classification', 'status']);
      expect(event.data.previous).toEqual({ assignedTo: null, status: 'active' });

      clock.advance(60_000);
      const v3 = graph('31', '2026-11-20T12:00:00Z', {
        status: 'resolved',
        classification: 'truePositive',
        alerts: [
          { id: 'da31_1', status: 'resolved' },
          { id: 'da31_2', status: 'new' },
        ],
      });
      delete v3.incident.assignedTo;
      await store.writePage(tenant, 'graph', [v3]);
      const third = (await all(tenant))[2];
      const alertsOnly = await events.cloudEvent(third!);
      expect(alertsOnly.data.changedFields).toEqual(['alerts']);
      expect(alertsOnly.data.previous).toEqual({});
    });

    it('incident.updated on the legacy source: incidentName is the title, alerts keyed by alertId', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'm365d', [legacy(552, '2024-09-05T07:20:44.9089383Z')]);
      await store.writePage(tenant, 'm365d', [
        legacy(552, '2024-09-05T08:00:00.12Z', {
          severity: 'Medium',
          alerts: [
            { alertId: 'fa552_1', status: 'New' },
            { alertId: 'fa552_2', status: 'New' },
          ],
        }),
      ]);
      const entries = await all(tenant);
      expect(entries.map((e) => [e.type, e.severity])).toEqual([
        ['incident.created', 'High'],
        ['incident.updated', 'Medium'],
      ]);
      const event = await events.cloudEvent(entries[1]!);
      expect(event.id).toBe(`${tenant}/552/2024-09-05T08:00:00.12Z`);
      expect(event.data).toMatchObject({
        source: 'm365d',
        title: 'Legacy 552',
        status: 'Active',
        severity: 'Medium',
        changedFields: ['alerts', 'severity'],
        previous: { severity: 'High' },
      });
    });

    it('two versions of one incident in one page: created then updated, in version order', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'graph', [
        graph('41', '2026-11-20T11:00:00Z', { status: 'resolved' }),
        graph('41', '2026-11-20T10:00:00Z'),
      ]);
      const entries = await all(tenant);
      expect(entries.map((e) => [e.lastUpdateTime, e.type])).toEqual([
        ['2026-11-20T10:00:00Z', 'incident.created'],
        ['2026-11-20T11:00:00Z', 'incident.updated'],
      ]);
      expect((await events.cloudEvent(entries[1]!)).data.changedFields).toEqual(['status']);
    });

    it('an older version written after a newer one is one incident.updated; writing it again adds none', async () => {
      const { store } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'graph', [graph('51', '2026-11-20T11:00:00Z', { status: 'resolved' })]);
      await store.writePage(tenant, 'graph', [graph('51', '2026-11-20T10:00:00Z')]);
      await store.writePage(tenant, 'graph', [graph('51', '2026-11-20T10:00:00Z')]);
      expect((await all(tenant)).map((e) => [e.lastUpdateTime, e.type])).toEqual([
        ['2026-11-20T11:00:00Z', 'incident.created'],
        ['2026-11-20T10:00:00Z', 'incident.updated'],
      ]);
    });

    it('reads by sequence: after N, at most limit, ascending; sequences increase across writes and writers', async () => {
      const { store, events, clock } = subject();
      const tenant = newTenantId();
      for (let i = 0; i < 5; i++) {
        const writer = store.writer?.(tenant);
        const page = [graph(String(60 + i), `2026-11-20T10:0${i}:00Z`)];
        if (writer) await writeThrough(writer, 'graph', page);
        else await store.writePage(tenant, 'graph', page);
        if (i % 2 === 0) clock.advance(1);
      }
      const entries = await all(tenant);
      expect(entries).toHaveLength(5);
      for (let i = 1; i < entries.length; i++) expect(entries[i]!.sequence).toBeGreaterThan(entries[i - 1]!.sequence);
      expect(await events.read(tenant, entries[1]!.sequence, 2)).toEqual(entries.slice(2, 4));
      expect(await events.read(tenant, entries[4]!.sequence, 10)).toEqual([]);
      expect(await events.read(newTenantId(), -1, 10)).toEqual([]);
    });

    it('history() and latest() list versions only: event rows never appear', async () => {
      const { store } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'graph', [graph('71', '2026-11-20T10:00:00Z')]);
      await store.writePage(tenant, 'graph', [graph('71', '2026-11-20T11:00:00Z', { status: 'resolved' })]);
      // A non-ASCII incident key sorts after `~`: it is still history, not an event row.
      await store.writePage(tenant, 'graph', [graph('é72', '2026-11-20T09:00:00Z')]);
      const history = await collect(store.history({ tenantId: tenant }));
      expect(history.map((s) => `${s.incidentId}@${s.lastUpdateTime}`)).toEqual([
        '71@2026-11-20T10:00:00Z',
        '71@2026-11-20T11:00:00Z',
        'é72@2026-11-20T09:00:00Z',
      ]);
      expect(await collect(store.history({ tenantId: tenant, since: '2026-11-20T10:30:00Z' }))).toHaveLength(1);
      expect(await collect(store.latest({ tenantId: tenant }))).toHaveLength(2);
      expect(await all(tenant)).toHaveLength(3);
    });

    it('an incident over 1 MiB of JSON is sent without alerts, flagged truncated with alertCount', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      // Poorly compressible alerts (hex of a running hash-like sequence), ~1.2 MB in all.
      const alerts = Array.from({ length: 12 }, (_, i) => ({
        id: `big_${i}`,
        description: Array.from({ length: 13_000 }, (_, j) => ((i * 7919 + j * 104_729) % 2 ** 31).toString(16)).join(
          '',
        ),
      }));
      const big = graph('81', '2026-11-20T10:00:00Z', { alerts });
      expect(JSON.stringify(big.incident).length).toBeGreaterThan(1024 * 1024);
      await store.writePage(tenant, 'graph', [big]);
      const [entry] = await all(tenant);
      const event = await events.cloudEvent(entry!);
      const { alerts: _dropped, ...rest } = big.incident;
      expect(event.data.truncated).toBe(true);
      expect(event.data.alertCount).toBe(12);
      expect(event.data.incident).toEqual(rest);
    });

    it('purging the tenant removes its events', async () => {
      const { store, events } = subject();
      const tenant = newTenantId();
      await store.writePage(tenant, 'graph', [graph('91', '2026-11-20T10:00:00Z')]);
      expect(await all(tenant)).toHaveLength(1);
      await store.purgeTenant(tenant);
      expect(await events.read(tenant, -1, 10)).toEqual([]);
    });
  });
}
