import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { DefenderWorld } from '../../devstack/world.js';
import { demoTenants } from '../../devstack/demoTenants.js';

// Copies of /work/shared/reference/samples (Microsoft's documented payloads).
const SAMPLES = new URL('../../devstack/samples', import.meta.url).pathname;
const sample = (name: string) =>
  JSON.parse(readFileSync(`${SAMPLES}/${name}`, 'utf8')) as { value: Record<string, unknown>[] };
const TENANT = '0f0e0d0c-0b0a-4909-8807-060504030201';
const NOW = new Date('2026-11-24T10:00:00.000Z');

describe('DefenderWorld', () => {
  it('is deterministic for a seed and tenant (given the same now) and differs across seeds', () => {
    const make = (seed: number) => {
      const w = new DefenderWorld({ seed, now: NOW });
      w.addTenant({ tenantId: TENANT, incidents: 30 });
      return w;
    };
    expect(make(7).graphIncidents(TENANT)).toEqual(make(7).graphIncidents(TENANT));
    expect(make(7).legacyIncidents(TENANT)).toEqual(make(7).legacyIncidents(TENANT));
    expect(make(8).graphIncidents(TENANT)).not.toEqual(make(7).graphIncidents(TENANT));
  });

  it('spreads seeded lastUpdate times over [now - spreadHours, now - minAgeSeconds]', () => {
    const w = new DefenderWorld({ now: NOW, spreadHours: 10, minAgeSeconds: 900 });
    w.addTenant({ tenantId: TENANT, incidents: 200 });
    const times = w.graphIncidents(TENANT).map((i) => Date.parse(String(i.lastUpdateDateTime)));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(NOW.getTime() - 10 * 3_600_000);
    expect(Math.max(...times)).toBeLessThanOrEqual(NOW.getTime() - 900_000);
  });

  it('renders the field sets of the documented samples', () => {
    const w = new DefenderWorld({ now: NOW });
    w.addTenant({ tenantId: TENANT, incidents: 40 });
    const graph = w.graphIncidents(TENANT);
    const graphSample = sample('graph-list-incidents.json').value[0] as Record<string, unknown>;
    const keys = (o: Record<string, unknown>) => Object.keys(o).sort();
    expect(keys({ ...(graph[0] as Record<string, unknown>), alerts: undefined })).toEqual(
      keys({ ...graphSample, alerts: undefined }),
    );
    const alertSample = (
      sample('graph-list-incidents-expand-alerts.json').value[0]?.alerts as Record<string, unknown>[]
    )[0] as Record<string, unknown>;
    const alert = (graph[0]?.alerts as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(keys(alert)).toEqual(keys(alertSample));
    expect(JSON.stringify(graph)).toContain('\uFFFD');
    expect(graph.every((i) => /^\d+$/.test(String(i.id)))).toBe(true);

    const legacy = w.legacyIncidents(TENANT);
    const legacySample = sample('m365d-list-incidents.json').value[0] as Record<string, unknown>;
    const allowedIncidentKeys = new Set([...Object.keys(legacySample), 'incidentUri']);
    expect(legacy.every((i) => Object.keys(i).every((k) => allowedIncidentKeys.has(k)))).toBe(true);
    expect(legacy.some((i) => 'incidentUri' in i)).toBe(true);
    const legacyAlerts = legacy.flatMap((i) => i.alerts as Record<string, unknown>[]);
    const documentedAlert = (legacySample.alerts as Record<string, unknown>[])[0] as Record<string, unknown>;
    expect(legacyAlerts.some((a) => keys(a).join() === keys(documentedAlert).join())).toBe(true);
    expect(legacyAlerts.some((a) => (a.devices as Record<string, unknown>[]).some((d) => 'mdatpDeviceId' in d))).toBe(
      true,
    );
    expect(legacy.every((i) => typeof i.incidentId === 'number')).toBe(true);
  });

  it('mutate bumps lastUpdate to now with 7 digits and changes the incident', () => {
    const w = new DefenderWorld({ now: NOW, clock: () => new Date('2026-11-24T11:00:00.123Z') });
    w.addTenant({ tenantId: TENANT, incidents: 5 });
    const before = w.graphIncidents(TENANT)[2] as Record<string, unknown>;
    w.mutate(TENANT, String(before.id));
    const after = w.graphIncidents(TENANT).find((i) => i.id === before.id) as Record<string, unknown>;
    expect(after.lastUpdateDateTime).toMatch(/^2026-11-24T11:00:00\.123\d{4}Z$/);
    expect(after).not.toEqual({ ...before, lastUpdateDateTime: after.lastUpdateDateTime });
    expect(w.legacyIncidents(TENANT)[0]?.incidentId).toBe(Number(before.id));
  });

  it('adds a late-arriving incident and a ~5 MB incident that stays large compressed', () => {
    const w = new DefenderWorld({ now: NOW });
    w.addTenant({ tenantId: TENANT, incidents: 1 });
    const lateId = w.addIncident(TENANT, { lastUpdate: new Date(NOW.getTime() - 86_400_000) });
    expect(String(w.graphIncidents(TENANT).find((i) => i.id === lateId)?.lastUpdateDateTime)).toMatch(
      /^2026-11-23T10:00:00\.000\d{4}Z$/,
    );
    const bigId = w.addIncident(TENANT, { sizeBytes: 5 * 1024 * 1024 });
    const big = JSON.stringify(w.graphIncidents(TENANT).find((i) => i.id === bigId));
    const size = Buffer.byteLength(big);
    expect(size).toBeGreaterThan(4.9 * 1024 * 1024);
    expect(size).toBeLessThan(5.1 * 1024 * 1024);
    expect(gzipSync(big).length).toBeGreaterThan(3 * 1024 * 1024);
    expect(
      Buffer.byteLength(JSON.stringify(w.legacyIncidents(TENANT).find((i) => String(i.incidentId) === bigId))),
    ).toBeGreaterThan(4.9 * 1024 * 1024);
  });

  it('demoTenants gives stable GUIDs and sample names', () => {
    const a = demoTenants(3);
    expect(a).toEqual(demoTenants(3));
    expect(a.map((t) => t.displayName)).toEqual(['Contoso Ltd', 'Fabrikam Inc', 'Northwind Traders']);
    expect(
      a.every((t) => /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(t.tenantId)),
    ).toBe(true);
    expect(new Set(demoTenants(500).map((t) => t.tenantId)).size).toBe(500);
  });
});
