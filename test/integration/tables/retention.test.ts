/**
 * The daily prune on Azurite (HISTORY_RETENTION_DAYS, orphan payload chunks; README "Data lifecycle"): the real
 * table adapters, the real delivery state store, counted from the raw tables. Each spec prunes only its own tenant
 * (the partitions listing is checked on its own), so specs sharing one Azurite never prune each other's rows.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { chunkRowKey } from '../../../shared/adapters/tables/payloadCodec.js';
import type { HistoryPruner } from '../../../shared/ports.js';
import { pruneHistory, type RetentionDeps } from '../../../shared/usecases/retention.js';
import { ManualClock } from '../../fakes/clock.js';
import { RecordingLogger } from '../../fakes/logger.js';
import { collect, fetched, graphIncident, newTenantId, startTables, type TableFixture } from './tableFixture.js';

const DAY = 86_400_000;
/** Azurite stamps rows with the real time: the writer writes "now", the prune runs two days later (past the grace). */
const writeClock = new ManualClock(new Date().toISOString());
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ clock: writeClock });
});

afterAll(async () => {
  await fx?.stop();
});

function daysAgo(days: number, from = Date.now()): string {
  return new Date(from - days * DAY).toISOString().replace(/\.\d{3}Z$/, '.5Z');
}

/** Versions of incident `id` at these ages in days (oldest first), each `bytes` of JSON, in one page. */
function versions(id: string, ages: readonly number[], bytes = 600) {
  return ages.map((age, i) =>
    fetched({ ...graphIncident(id, daysAgo(age), bytes, Number(id) * 10 + i), status: `s${i}` }),
  );
}

/** Deps pruning only `tenantId`, at `now` (default two days after the writes). */
function deps(tenantId: string, retentionDays: number, now = new Date(Date.now() + 2 * DAY)): RetentionDeps {
  const pruner: HistoryPruner = {
    tenantPartitions: async () => [tenantId],
    pruneTenant: (t, policy) => fx.stores.historyPruner.pruneTenant(t, policy),
  };
  return {
    pruner,
    subscriptions: fx.stores.subscriptions,
    deliveryState: fx.stores.deliveryState,
    clock: { now: () => now },
    logger: new RecordingLogger(),
    retentionDays,
    concurrency: 2,
  };
}

interface Raw {
  /** History RowKeys. */
  readonly versions: string[];
  /** Event rows: sequence → the history RowKey it belongs to. */
  readonly events: Map<number, string>;
}

async function raw(tenantId: string): Promise<Raw> {
  const client = fx.stores.clients.client('history');
  const out: Raw = { versions: [], events: new Map() };
  for await (const row of client.listEntities<{ historyRowKey?: string }>({
    queryOptions: { filter: `PartitionKey eq '${tenantId}'`, select: ['RowKey', 'historyRowKey'] },
  })) {
    const key = String(row.rowKey);
    if (key.startsWith('~ev_')) out.events.set(Number(key.slice(4)), String(row.historyRowKey));
    else out.versions.push(key);
  }
  return out;
}

async function chunkKeys(tenantId: string): Promise<string[]> {
  const out: string[] = [];
  for await (const row of fx.stores.clients.client('chunks').listEntities({
    queryOptions: { filter: `PartitionKey eq '${tenantId}'`, select: ['RowKey'] },
  }))
    out.push(String(row.rowKey));
  return out.sort();
}

/** The history RowKey suffix (fixed-width lastUpdate) of a version written by `versions`. */
function ages(r: Raw, id: string): string[] {
  return r.versions.filter((k) => k.startsWith(`${id}_`)).map((k) => k.slice(id.length + 1));
}

async function sequencesOf(tenantId: string): Promise<{ sequence: number; historyRowKey: string }[]> {
  const r = await raw(tenantId);
  return [...r.events.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([sequence, historyRowKey]) => ({ sequence, historyRowKey }));
}

async function addSubscription(id: string, tenantId: string, createdAt: string, status: 'active' | 'disabled') {
  await fx.stores.subscriptions.add({
    id,
    kind: 'webhook',
    url: 'https://receiver.example/hook',
    filters: { tenants: [tenantId] },
    status,
    createdAt,
  });
}

describe('history prune on Azurite', () => {
  it('removes old versions with their event rows, keeps the latest and the one its event needs; dry run removes nothing', async () => {
    const tenant = newTenantId();
    await fx.stores.snapshots.writePage(tenant, 'graph', [
      ...versions('1', [200, 150, 120, 100]),
      ...versions('2', [5]),
    ]);
    const before = await raw(tenant);
    expect(before.versions).toHaveLength(5);
    expect(before.events.size).toBe(5);

    const dry = await pruneHistory(deps(tenant, 90), { dryRun: true });
    expect(await raw(tenant)).toEqual(before);

    const report = await pruneHistory(deps(tenant, 90));
    expect({ ...report, cutoff: undefined }).toEqual({ ...dry, dryRun: false, cutoff: undefined });
    // v1, v2 go with their events; v3 stays (v4's update event is rebuilt from it) without its event; v4 is latest.
    expect(report).toMatchObject({
      tenants: 1,
      versionsRemoved: 2,
      eventsRemoved: 3,
      chunksRemoved: 0,
      kept: { latest: 1, undelivered: 0, previous: 1, recent: 0 },
      failed: [],
    });
    const after = await raw(tenant);
    expect(ages(after, '1')).toEqual(ages(before, '1').slice(2));
    expect(ages(after, '2')).toEqual(ages(before, '2'));
    expect([...after.events.values()].sort()).toEqual(
      before.versions.filter((k) => !k.startsWith('1_') || k === before.versions[3]).sort(),
    );

    // What is kept still reads and still rebuilds its event exactly: v4's update lists what changed from v3.
    const latest = await collect(fx.stores.snapshots.latest({ tenantId: tenant }));
    expect(latest.map((s) => s.incidentId).sort()).toEqual(['1', '2']);
    const [entry] = (await fx.stores.events.read(tenant, -1, 100)).filter((e) => e.incidentId === '1');
    expect(entry?.type).toBe('incident.updated');
    const event = await fx.stores.events.cloudEvent(entry as NonNullable<typeof entry>);
    expect(event.data.changedFields).toContain('status');
    expect(event.data.previous).toMatchObject({ status: 's2' });
  });

  it('keeps versions whose events are after a cursor, pending or dead-lettered (active or disabled subscription)', async () => {
    const tenant = newTenantId();
    await fx.stores.snapshots.writePage(tenant, 'graph', versions('7', [300, 250, 200, 150, 100]));
    const seqs = await sequencesOf(tenant);
    expect(seqs).toHaveLength(5);
    const [s1, s2, s3, , s5] = seqs.map((s) => s.sequence) as [number, number, number, number, number];
    const created = daysAgo(400);
    // An active subscription delivered up to v3; a disabled one delivered everything but has v2 pending.
    await addSubscription(`sub-${tenant}-a`, tenant, created, 'active');
    await fx.stores.deliveryState.saveCursor(`sub-${tenant}-a`, tenant, s3);
    await addSubscription(`sub-${tenant}-d`, tenant, created, 'disabled');
    await fx.stores.deliveryState.saveCursor(`sub-${tenant}-d`, tenant, s5);
    await fx.stores.deliveryState.putPending(`sub-${tenant}-d`, {
      tenantId: tenant,
      incidentId: '7',
      sequences: [s2],
      attempt: 2,
      nextAttemptAt: new Date().toISOString(),
    });

    const report = await pruneHistory(deps(tenant, 90));
    // v5 latest; v4 after the active cursor; v3 is v4's previous (its event goes); v2 pending; v1 is v2's previous.
    expect(report).toMatchObject({
      versionsRemoved: 0,
      eventsRemoved: 2,
      kept: { latest: 1, undelivered: 2, previous: 2, recent: 0 },
    });
    const after = await raw(tenant);
    expect(after.versions).toHaveLength(5);
    expect([...after.events.keys()].sort()).toEqual([s2, seqs[3]?.sequence, s5].sort());
    expect(after.events.has(s1)).toBe(false);

    // Once v2 is dead-lettered instead of pending, it is still kept (replayable); a dead letter of v1 keeps v1 too.
    await fx.stores.deliveryState.deletePending(`sub-${tenant}-d`, tenant, '7');
    await fx.stores.deliveryState.addDeadLetter({
      subscriptionId: `sub-${tenant}-d`,
      tenantId: tenant,
      sequence: s2,
      incidentId: '7',
      eventId: `${tenant}/7/x`,
      type: 'incident.updated',
      eventTime: created,
      attempts: 8,
      lastErrorCode: 'HTTP_500',
      lastError: 'receiver failed',
      deadLetteredAt: new Date().toISOString(),
    });
    const again = await pruneHistory(deps(tenant, 90));
    expect(again).toMatchObject({ versionsRemoved: 0, eventsRemoved: 0, kept: { undelivered: 2 } });

    // Delivered everywhere: only the latest and the version its event needs remain.
    await fx.stores.deliveryState.deleteDeadLetter(`sub-${tenant}-d`, tenant, s2);
    const pair = await fx.stores.deliveryState.pair(`sub-${tenant}-a`, tenant);
    await fx.stores.deliveryState.saveCursor(`sub-${tenant}-a`, tenant, s5, pair.cursorVersion);
    const last = await pruneHistory(deps(tenant, 90));
    expect(last).toMatchObject({ versionsRemoved: 3, kept: { latest: 1, previous: 1, undelivered: 0 } });
    expect((await raw(tenant)).versions).toHaveLength(2);
  });

  it('a subscription without a cursor is owed every event written since it was created', async () => {
    const tenant = newTenantId();
    await fx.stores.snapshots.writePage(tenant, 'graph', versions('8', [300, 200, 100]));
    await addSubscription(`sub-${tenant}`, tenant, daysAgo(1000), 'active');
    const report = await pruneHistory(deps(tenant, 90));
    expect(report).toMatchObject({ versionsRemoved: 0, eventsRemoved: 0, kept: { latest: 1, undelivered: 2 } });
  });

  it('HISTORY_RETENTION_DAYS=0 removes no version and no event', async () => {
    const tenant = newTenantId();
    await fx.stores.snapshots.writePage(tenant, 'graph', versions('9', [3000, 2000, 1000]));
    const before = await raw(tenant);
    const report = await pruneHistory(deps(tenant, 0));
    expect(report).toMatchObject({ cutoff: null, versionsRemoved: 0, eventsRemoved: 0, chunksRemoved: 0 });
    expect(await raw(tenant)).toEqual(before);
  });

  it('payload chunks: a removed version’s chunks go, a chunk shared by history and latest stays, young orphans stay', async () => {
    const tenant = newTenantId();
    // Three large versions (each over one entity: PayloadChunks rows), the newest is the latest row too.
    await fx.stores.snapshots.writePage(tenant, 'graph', versions('5', [300, 200, 100], 1_500_000));
    const chunksBefore = await chunkKeys(tenant);
    const keys = [...new Set(chunksBefore.map((k) => k.slice(0, k.lastIndexOf('_'))))];
    expect(keys).toHaveLength(3);
    // An orphan from a writer that crashed after its chunks, just written (young) and so kept by a prune now.
    const orphan = chunkRowKey('f'.repeat(64), 0);
    await fx.stores.clients.client('chunks').createEntity({ partitionKey: tenant, rowKey: orphan, parts: 0 });
    const young = await pruneHistory(deps(tenant, 0, new Date()));
    expect(young.chunksRemoved).toBe(0);
    expect(await chunkKeys(tenant)).toContain(orphan);

    // Two days later: the orphan goes; with 90 days' retention v1 goes and its chunks with it.
    const report = await pruneHistory(deps(tenant, 90));
    const after = await chunkKeys(tenant);
    expect(after).not.toContain(orphan);
    expect(report.versionsRemoved).toBe(1);
    const removedChunkRows = chunksBefore.filter((k) => !after.includes(k));
    expect(report.chunksRemoved).toBe(removedChunkRows.length + 1);
    expect(new Set(removedChunkRows.map((k) => k.slice(0, k.lastIndexOf('_')))).size).toBe(1);
    // Every kept version (the latest shares its chunks with its history row) still decodes.
    const history = await collect(fx.stores.snapshots.history({ tenantId: tenant }));
    expect(history).toHaveLength(2);
    const latest = await collect(fx.stores.snapshots.latest({ tenantId: tenant }));
    expect(latest[0]?.incident.status).toBe('s2');
    // A prune that finds nothing more changes nothing.
    const still = await pruneHistory(deps(tenant, 90));
    expect(still).toMatchObject({ versionsRemoved: 0, chunksRemoved: 0 });
    expect(await chunkKeys(tenant)).toEqual(after);
  });

  it('lists every tenant partition of history and chunks', async () => {
    const a = newTenantId();
    await fx.stores.snapshots.writePage(a, 'graph', versions('3', [1]));
    const partitions = await fx.stores.historyPruner.tenantPartitions();
    expect(partitions).toContain(a);
    expect(partitions).toEqual([...partitions].sort());
  });
});
