/**
 * Event recording on Azurite under failures the contract suite cannot stage: a crash between a page's history
 * transactions, a crash after the history transaction (before the latest rows), a transaction whose answer is lost
 * after it committed, writers whose clocks disagree, and a stale second writer handing out the same sequence. After
 * a rerun, every version has exactly one event row and every event row its version (counted from the raw table).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TableClient } from '@azure/data-tables';
import type { AdditionalPolicies } from '../../../shared/adapters/tables/tableClients.js';
import { createTableStores, type TableStores } from '../../../shared/adapters/tables/tableStores.js';
import type { FetchedIncident } from '../../../shared/ports.js';
import { ManualClock } from '../../fakes/clock.js';
import { fetched, graphIncident, newTenantId, startTables, type TableFixture } from './tableFixture.js';
import { writeThrough } from '../../contracts/ids.js';

/** Which `$batch` to break: the n-th (1-based, counted from arming) whose body targets `table`. */
interface Breaker {
  table: string;
  countdown: number;
  /** `before`: the request never leaves (a crash before sending); `after`: it commits, the answer is lost. */
  when: 'before' | 'after';
}

let breaker: Breaker | undefined;
const breakPolicy: AdditionalPolicies = [
  {
    position: 'perCall',
    policy: {
      name: 'breakBatch',
      sendRequest: async (request, next) => {
        const armed = breaker;
        const body = typeof request.body === 'string' ? request.body : '';
        const hit =
          armed !== undefined &&
          new URL(request.url).pathname.endsWith('/$batch') &&
          new RegExp(`/${armed.table}(\\(| HTTP)`).test(body) &&
          --armed.countdown === 0;
        if (!hit) return next(request);
        breaker = undefined;
        if (armed.when === 'before') throw new Error('injected crash before the transaction was sent');
        await next(request);
        throw new Error('injected crash after the transaction committed');
      },
    },
  },
];

const clock = new ManualClock('2026-11-24T12:00:00.000Z');
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ clock, additionalPolicies: breakPolicy });
});

afterAll(async () => {
  await fx?.stop();
});

/** `count` incidents from `firstId`; `resolved` makes a newer version of each (an hour later, another status). */
function page(count: number, firstId: number, status: 'active' | 'resolved' = 'active'): FetchedIncident[] {
  const hour = status === 'active' ? '10' : '11';
  return Array.from({ length: count }, (_, i) => {
    const at = `2026-11-20T${hour}:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.5Z`;
    return fetched({ ...graphIncident(String(firstId + i), at, 600), status });
  });
}

interface RawPartition {
  readonly versions: string[];
  /** Event rows in RowKey (= sequence) order: sequence and the history RowKey each belongs to. */
  readonly events: { sequence: number; historyRowKey: string }[];
}

async function raw(client: TableClient, tenantId: string): Promise<RawPartition> {
  const versions: string[] = [];
  const events: { sequence: number; historyRowKey: string }[] = [];
  for await (const row of client.listEntities<{ historyRowKey?: string }>({
    queryOptions: { filter: `PartitionKey eq '${tenantId}'`, select: ['RowKey', 'historyRowKey'] },
  })) {
    const key = String(row.rowKey);
    if (key.startsWith('~ev_'))
      events.push({ sequence: Number(key.slice(4)), historyRowKey: String(row.historyRowKey) });
    else versions.push(key);
  }
  return { versions, events };
}

/** Every version has exactly one event, every event its version, sequences strictly increasing. */
function expectOneEventPerVersion(p: RawPartition, versions: number): void {
  expect(p.versions).toHaveLength(versions);
  expect(p.events.map((e) => e.historyRowKey).sort()).toEqual([...p.versions].sort());
  for (let i = 1; i < p.events.length; i++) expect(p.events[i]!.sequence).toBeGreaterThan(p.events[i - 1]!.sequence);
}

describe('event recording when writes fail part-way', () => {
  const history = () => fx.stores.clients.client('history');

  it('a crash between two history transactions of one page, then a rerun: one event per version', async () => {
    const tenantId = newTenantId();
    const incidents = page(100, 7_000_000);
    breaker = { table: 'IncidentHistory', countdown: 2, when: 'before' };
    await expect(fx.stores.snapshots.writer(tenantId).writePage('graph', incidents)).rejects.toThrow();
    const afterCrash = await raw(history(), tenantId);
    expectOneEventPerVersion(afterCrash, 50);

    const rerun = await fx.stores.snapshots.writer(tenantId).writePage('graph', incidents);
    expect(rerun.changed).toBe(50);
    expect(rerun.events).toHaveLength(50);
    const after = await raw(history(), tenantId);
    expectOneEventPerVersion(after, 100);
    // The first run's events stay as they were; the rerun's come after them.
    expect(after.events.slice(0, 50)).toEqual(afterCrash.events);
    expect((await fx.stores.events.read(tenantId, -1, 1000)).map((e) => e.type)).toEqual(
      Array.from({ length: 100 }, () => 'incident.created'),
    );
  });

  it('a crash after the history transaction (latest rows unwritten), then a rerun: no second event', async () => {
    const tenantId = newTenantId();
    const incidents = page(30, 7_100_000);
    breaker = { table: 'Incidents', countdown: 1, when: 'before' };
    await expect(writeThrough(fx.stores.snapshots.writer(tenantId), 'graph', incidents)).rejects.toThrow();
    expectOneEventPerVersion(await raw(history(), tenantId), 30);

    const rerun = await writeThrough(fx.stores.snapshots.writer(tenantId), 'graph', incidents);
    expect(rerun).toEqual({ changed: 0 });
    expectOneEventPerVersion(await raw(history(), tenantId), 30);
    const latest = [];
    for await (const s of fx.stores.snapshots.latest({ tenantId })) latest.push(s);
    expect(latest).toHaveLength(30);
  });

  it('a history transaction that committed but whose answer was lost, then a rerun with a newer version', async () => {
    const tenantId = newTenantId();
    const incidents = page(10, 7_200_000);
    breaker = { table: 'IncidentHistory', countdown: 1, when: 'after' };
    await expect(fx.stores.snapshots.writePage(tenantId, 'graph', incidents)).rejects.toThrow();
    expectOneEventPerVersion(await raw(history(), tenantId), 10);

    // The rerun reads the same versions plus a newer version of the first incident.
    const newer = page(1, 7_200_000, 'resolved');
    const rerun = await fx.stores.snapshots.writePage(tenantId, 'graph', [...incidents, ...newer]);
    expect(rerun.changed).toBe(1);
    expect(rerun.events?.map((e) => [e.incidentId, e.type])).toEqual([['7200000', 'incident.updated']]);
    expectOneEventPerVersion(await raw(history(), tenantId), 11);
  });
});

describe('event sequences across writers', () => {
  let behind: TableStores;
  let stale: TableStores;
  const behindClock = new ManualClock('2026-11-24T11:00:00.000Z');

  beforeAll(() => {
    const storage = { kind: 'connectionString' as const, connectionString: fx.azurite.connectionString };
    behind = createTableStores(storage, { clock: behindClock });
    stale = createTableStores(storage, { clock });
  });

  it('a writer whose clock is an hour behind still continues above the stored sequences', async () => {
    const tenantId = newTenantId();
    await writeThrough(fx.stores.snapshots.writer(tenantId), 'graph', page(3, 7_300_000));
    await writeThrough(behind.snapshots.writer(tenantId), 'graph', page(3, 7_300_010));
    await writeThrough(fx.stores.snapshots.writer(tenantId), 'graph', page(3, 7_300_020));
    const entries = await fx.stores.events.read(tenantId, -1, 100);
    expect(entries.map((e) => e.incidentId)).toEqual([
      '7300000',
      '7300001',
      '7300002',
      '7300010',
      '7300011',
      '7300012',
      '7300020',
      '7300021',
      '7300022',
    ]);
    for (let i = 1; i < entries.length; i++) expect(entries[i]!.sequence).toBeGreaterThan(entries[i - 1]!.sequence);
    expectOneEventPerVersion(await raw(history(), tenantId), 9);
  });

  it('a stale second writer handing out a sequence already taken re-seeds instead of losing or doubling an event', async () => {
    const tenantId = newTenantId();
    const first = fx.stores.snapshots.writer(tenantId);
    const second = stale.snapshots.writer(tenantId);
    // The clock stands still: first takes T, second seeds above it (T+1), then first's own next value is T+1 too.
    await writeThrough(first, 'graph', page(1, 7_400_000));
    await writeThrough(second, 'graph', page(1, 7_400_010));
    const result = await writeThrough(first, 'graph', page(1, 7_400_020));
    expect(result.changed).toBe(1);
    const entries = await fx.stores.events.read(tenantId, -1, 100);
    expect(entries.map((e) => e.incidentId)).toEqual(['7400000', '7400010', '7400020']);
    expect(entries.map((e) => e.sequence - entries[0]!.sequence)).toEqual([0, 1, 2]);
    expectOneEventPerVersion(await raw(history(), tenantId), 3);
  });

  const history = () => fx.stores.clients.client('history');
});
