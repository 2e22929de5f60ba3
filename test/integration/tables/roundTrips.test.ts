/**
 * Round trips saved by a collection's writer (index of the tenant's latest rows) and by the tenant store's
 * remembered ETag, and the guarantees kept when that memory goes stale: another store instance over the same
 * Azurite plays the "someone else wrote" part.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTableStores, type TableStores } from '../../../shared/adapters/tables/tableStores.js';
import type { FetchedIncident, SnapshotWriter } from '../../../shared/ports.js';
import { writeThrough } from '../../contracts/ids.js';
import { createRequestCounter } from './requestCounter.js';
import {
  byId,
  collect,
  historyAndEvents,
  fetched,
  graphIncident,
  newTenantId,
  startTables,
  type TableFixture,
} from './tableFixture.js';

const counter = createRequestCounter();
let fx: TableFixture;
/** A second process, as far as the stores can tell. */
let other: TableStores;

beforeAll(async () => {
  fx = await startTables({ additionalPolicies: counter.additionalPolicies });
  other = createTableStores({ kind: 'connectionString', connectionString: fx.azurite.connectionString });
});

afterAll(async () => {
  await fx?.stop();
});

const at = (minute: number, second = 0) =>
  `2026-11-20T10:${String(minute % 60).padStart(2, '0')}:${String(second % 60).padStart(2, '0')}.1234567Z`;

function incidents(count: number, firstId: number, version = 0): FetchedIncident[] {
  return Array.from({ length: count }, (_, i) => {
    const incident = graphIncident(String(firstId + i), at(Math.floor(i / 60) + version, i % 60), 600);
    return fetched({ ...incident, status: version === 0 ? 'active' : `v${version}` });
  });
}

/** Pages of `pageSize`, then the writer's flush when one is given (what a collection does at its end). */
async function writeAll(
  write: (page: readonly FetchedIncident[]) => Promise<{ changed: number }>,
  all: readonly FetchedIncident[],
  pageSize: number,
  writer?: SnapshotWriter,
): Promise<number> {
  let changed = 0;
  for (let i = 0; i < all.length; i += pageSize) changed += (await write(all.slice(i, i + pageSize))).changed;
  return changed + (writer ? (await writer.flush()).changed : 0);
}

const latestOf = async (tenantId: string) => byId(await collect(fx.stores.snapshots.latest({ tenantId })));

describe('a collection writer', () => {
  it('writes 1,000 new incidents in pages of 50 with one read of the partition, one event-sequence seed and full transactions alone', async () => {
    const tenantId = newTenantId();
    const all = incidents(1000, 3_000_000);
    const writer = fx.stores.snapshots.writer(tenantId);
    counter.reset();

    expect(await writeAll((page) => writer.writePage('graph', page), all, 50, writer)).toBe(1000);

    expect(counter.byKind.get('GET Incidents')).toBe(1);
    // The writer's event sequence is seeded once, at its first event (one range read of the event rows).
    expect(counter.byKind.get('GET IncidentHistory')).toBe(1);
    // Two pages of 50 are written together: 100 (history row, event row) pairs = two full transactions of 100, and
    // one full transaction of 100 latest rows — the floor of 30 per 1,000 versions (a page at a time took 40).
    expect(counter.byKind.get('POST $batch')).toBe(30);
    expect(counter.batches.every((b) => b.operations === 100)).toBe(true);
    expect(counter.total).toBe(32);
    process.stderr.write(`[tables] writer, 1000 new incidents in pages of 50: ${counter.total} round trips\n`);
    const stored = await latestOf(tenantId);
    expect(stored.size).toBe(1000);
    expect(stored.get('3000999')?.lastUpdateTime).toBe(all[999]?.lastUpdateTime);
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 1000,
      events: 1000,
      other: 0,
    });
  });

  it('re-writing the same pages in a new collection reads the partition once and writes nothing', async () => {
    const tenantId = newTenantId();
    const all = incidents(300, 3_100_000);
    await writeAll((page) => fx.stores.snapshots.writePage(tenantId, 'graph', page), all, 100);
    const writer = fx.stores.snapshots.writer(tenantId);
    counter.reset();

    expect(await writeAll((page) => writer.writePage('graph', page), all, 50, writer)).toBe(0);

    expect(Object.fromEntries(counter.byKind)).toEqual({ 'GET Incidents': 1 });
  });

  it('new versions of stored incidents replace the latest rows through the ETags the index remembers', async () => {
    const tenantId = newTenantId();
    await writeAll((page) => fx.stores.snapshots.writePage(tenantId, 'graph', page), incidents(100, 3_200_000), 100);
    const writer = fx.stores.snapshots.writer(tenantId);
    counter.reset();

    // Version 1 of every incident, then version 2 of the same ones: the second pass uses ETags from the first's answers.
    expect(await writeAll((page) => writer.writePage('graph', page), incidents(100, 3_200_000, 1), 50, writer)).toBe(
      100,
    );
    expect(await writeAll((page) => writer.writePage('graph', page), incidents(100, 3_200_000, 2), 50, writer)).toBe(
      100,
    );

    expect(counter.byKind.get('GET Incidents')).toBe(1);
    // Per 100 versions: two transactions of (history row, event row) pairs and one of latest rows.
    expect(counter.byKind.get('POST $batch')).toBe(6);
    const stored = await latestOf(tenantId);
    expect([...stored.values()].every((s) => s.incident.status === 'v2')).toBe(true);
    expect(await historyAndEvents(fx.stores.clients.client('history'), tenantId)).toEqual({
      versions: 300,
      events: 300,
      other: 0,
    });
  });

  it('falls back to per-page lookups when the partition does not fit in one response, with the same results', async () => {
    const tenantId = newTenantId();
    await writeAll((page) => fx.stores.snapshots.writePage(tenantId, 'graph', page), incidents(1001, 3_300_000), 100);
    const writer = fx.stores.snapshots.writer(tenantId);
    counter.reset();

    const changed = await writeAll(
      (page) => writer.writePage('graph', page),
      [...incidents(50, 3_300_000, 1), ...incidents(50, 3_300_000)],
      50,
      writer,
    );

    expect(changed).toBe(50);
    // The partition read (cut short), then one range lookup per page.
    expect(counter.byKind.get('GET Incidents')).toBe(3);
    expect((await latestOf(tenantId)).get('3300000')?.incident.status).toBe('v1');
  });

  it('never lets the latest row regress when another writer moved it on behind the index', async () => {
    const tenantId = newTenantId();
    const writer = fx.stores.snapshots.writer(tenantId);
    const [v0] = incidents(1, 3_400_000, 0);
    const [v1] = incidents(1, 3_400_000, 1);
    const [v2] = incidents(1, 3_400_000, 2);
    const [fresh] = incidents(1, 3_400_001, 0);
    await writeThrough(writer, 'graph', [v0 as FetchedIncident]);

    // Elsewhere: v2 of a known incident (the index's ETag goes stale), and a row the index believes absent.
    await other.snapshots.writePage(tenantId, 'graph', [v2 as FetchedIncident, fresh as FetchedIncident]);

    // v1 is older than the stored v2: history gets it, latest keeps v2 (412 → re-read → re-decided).
    expect((await writeThrough(writer, 'graph', [v1 as FetchedIncident])).changed).toBe(1);
    // The same content as the row written elsewhere: 409 on create → re-read → nothing to replace.
    await writeThrough(writer, 'graph', [fresh as FetchedIncident]);

    const stored = await latestOf(tenantId);
    expect(stored.get('3400000')?.incident.status).toBe('v2');
    expect(stored.get('3400001')?.incident.status).toBe('active');
    const history = await collect(fx.stores.snapshots.history({ tenantId }));
    expect(
      history
        .filter((h) => h.incidentId === '3400000')
        .map((h) => h.incident.status)
        .sort(),
    ).toEqual(['active', 'v1', 'v2']);
    expect(history.filter((h) => h.incidentId === '3400001')).toHaveLength(1);

    // After the conflicts the index knows the rows again: a newer version goes straight through.
    const [v3] = incidents(1, 3_400_000, 3);
    counter.reset();
    expect((await writeThrough(writer, 'graph', [v3 as FetchedIncident])).changed).toBe(1);
    expect(counter.byKind.get('GET Incidents')).toBeUndefined();
    expect((await latestOf(tenantId)).get('3400000')?.incident.status).toBe('v3');
  });
});

describe('advancing the checkpoint', () => {
  it('costs one conditional write per page once the tenant row has been read', async () => {
    const id = newTenantId();
    await fx.stores.tenants.upsert(id, { displayName: 'Contoso', status: 'active' });
    await fx.stores.tenants.get(id);
    counter.reset();

    for (let minute = 1; minute <= 10; minute++)
      expect(await fx.stores.tenants.advanceCheckpoint(id, at(minute))).toBe(at(minute));
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'PATCH Tenants': 10 });
    // Not later than the stored value: the answer is the stored value, read fresh (memory cannot vouch for it).
    await other.tenants.advanceCheckpoint(id, at(12));
    expect(await fx.stores.tenants.advanceCheckpoint(id, at(5))).toBe(at(12));
    expect((await other.tenants.get(id))?.checkpoint).toBe(at(12));
  });

  it('never moves backwards when the remembered row is stale: the 412 leads to a fresh read and compare', async () => {
    const id = newTenantId();
    await fx.stores.tenants.upsert(id, { displayName: 'Contoso', status: 'active' });
    await fx.stores.tenants.advanceCheckpoint(id, at(1));
    // Another process moves the checkpoint further; this store still remembers at(1) and the old ETag.
    await other.tenants.advanceCheckpoint(id, at(30));

    expect(await fx.stores.tenants.advanceCheckpoint(id, at(20))).toBe(at(30));
    expect((await other.tenants.get(id))?.checkpoint).toBe(at(30));

    // And forward again from the fresh read, then from memory once more.
    await other.tenants.update(id, { lastErrorCode: 'X' });
    expect(await fx.stores.tenants.advanceCheckpoint(id, at(40))).toBe(at(40));
    expect(await fx.stores.tenants.advanceCheckpoint(id, at(41))).toBe(at(41));
    expect((await other.tenants.get(id))?.checkpoint).toBe(at(41));
  });

  it('a deleted tenant is not resurrected by a remembered ETag', async () => {
    const id = newTenantId();
    await fx.stores.tenants.upsert(id, { displayName: 'Contoso', status: 'active' });
    await fx.stores.tenants.advanceCheckpoint(id, at(1));
    await other.tenants.delete(id);

    await expect(fx.stores.tenants.advanceCheckpoint(id, at(2))).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await other.tenants.get(id)).toBeUndefined();
  });
});

describe('the tenant lease', () => {
  it('costs one round trip each to take, renew and release when this store wrote the row last', async () => {
    const id = newTenantId();
    counter.reset();
    const lease = await fx.stores.leases.acquire(id, 'worker-a', 60_000);
    const renewed = await fx.stores.leases.renew(lease!, 120_000);
    expect(renewed?.owner).toBe('worker-a');
    await fx.stores.leases.release(renewed!);
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'POST Leases': 1, 'PUT Leases': 1, 'DELETE Leases': 1 });
    expect(await other.leases.holder(id)).toBeUndefined();
  });

  it('a stale remembered ETag never renews or releases a lease another owner took over', async () => {
    const id = newTenantId();
    // Expires at once (the stores run on the wall clock here): another process takes it over.
    const old = await fx.stores.leases.acquire(id, 'old', 1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await other.leases.acquire(id, 'new', 60_000))?.owner).toBe('new');

    expect(await fx.stores.leases.renew(old!, 60_000)).toBeUndefined();
    await fx.stores.leases.release(old!);
    expect(await other.leases.holder(id)).toBe('new');
  });

  it('a lease its owner re-took in another process is still released by the first (read and compare after the 412)', async () => {
    const id = newTenantId();
    const first = await fx.stores.leases.acquire(id, 'same-owner', 60_000);
    expect((await other.leases.acquire(id, 'same-owner', 60_000))?.owner).toBe('same-owner');

    counter.reset();
    await fx.stores.leases.release(first!);
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'DELETE Leases': 2, 'GET Leases': 1 });
    expect(await other.leases.holder(id)).toBeUndefined();
  });
});

describe('the run counters of one process', () => {
  const result = (status: 'ok' | 'failed', changed: number) => ({
    tenantId: newTenantId(),
    status,
    incidentsFetched: 10,
    incidentsChanged: changed,
    pages: 1,
  });
  const newRun = (runId: string) => ({
    runId,
    startedAt: '2026-11-24T12:00:00.000Z',
    trigger: 'test',
    tenantsPlanned: 4,
    tenantsOk: 0,
    tenantsFailed: 0,
    tenantsSkipped: 0,
    incidentsFetched: 0,
    incidentsChanged: 0,
    pages: 0,
    deadLetters: 0,
  });

  it('cost one conditional write per coalesced batch; a stale memory costs a read and never loses a count', async () => {
    const runId = `run-${newTenantId().slice(0, 8)}`;
    const startedAt = '2026-11-24T12:00:00.000Z';
    await fx.stores.runs.create(newRun(runId));
    counter.reset();

    await fx.stores.runs.recordTenants(runId, startedAt, [result('ok', 2)]);
    await fx.stores.runs.recordTenants(runId, startedAt, [result('ok', 0), result('failed', 0)]);
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'PATCH Runs': 2 });

    // Another process counts meanwhile: the remembered ETag is stale → 412 → read → write.
    await other.runs.recordTenants(runId, startedAt, [result('ok', 5)]);
    counter.reset();
    await fx.stores.runs.recordTenants(runId, startedAt, [result('ok', 1)]);
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'PATCH Runs': 2, 'GET Runs': 1 });

    expect(await other.runs.get(runId, startedAt)).toMatchObject({
      tenantsOk: 4,
      tenantsFailed: 1,
      incidentsChanged: 8,
      incidentsFetched: 50,
      pages: 5,
    });
  });
});
