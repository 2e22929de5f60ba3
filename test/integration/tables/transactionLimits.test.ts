/**
 * Transaction limits checked by observation: a pipeline policy dissects every `$batch` body the real SDK sends
 * while 1,000 incidents (some near and some far beyond the 1 MiB entity limit) are written, and round trips are
 * counted per 1,000 incidents.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { FetchedIncident } from '../../../shared/ports.js';
import { createRequestCounter } from './requestCounter.js';
import { collect, fetched, graphIncident, newTenantId, startTables, type TableFixture } from './tableFixture.js';

const counter = createRequestCounter();
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ additionalPolicies: counter.additionalPolicies });
});

afterAll(async () => {
  await fx?.stop();
});

function incidents(count: number, firstId: number, sizeOf: (i: number) => number): FetchedIncident[] {
  return Array.from({ length: count }, (_, i) =>
    fetched(
      graphIncident(
        String(firstId + i),
        `2026-11-20T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}.1234567Z`,
        sizeOf(i),
      ),
    ),
  );
}

async function writeInPages(tenantId: string, all: readonly FetchedIncident[], pageSize: number): Promise<number> {
  let changed = 0;
  for (let i = 0; i < all.length; i += pageSize)
    changed += (await fx.stores.snapshots.writePage(tenantId, 'graph', all.slice(i, i + pageSize))).changed;
  return changed;
}

describe('transactions as sent on the wire', () => {
  it('every $batch has ≤ 100 operations, one partition and < 4 MiB while 1,000 incidents incl. large ones are written', async () => {
    const tenantId = newTenantId();
    // ~2% large: 12 of ~700 KB (inline near the entity budget, or just over it) and 8 of 1.5–3 MB (chunked).
    const all = incidents(1000, 4_000_000, (i) =>
      i % 83 === 5 ? 700_000 : i % 125 === 7 ? 1_500_000 + (i % 3) * 750_000 : 1_500,
    );
    counter.reset();

    const changed = await writeInPages(tenantId, all, 100);

    expect(changed).toBe(1000);
    expect(counter.batches.length).toBeGreaterThan(0);
    for (const batch of counter.batches) {
      expect(batch.operations).toBeGreaterThan(0);
      expect(batch.operations).toBeLessThanOrEqual(100);
      expect(batch.partitionKeys).toEqual([tenantId]);
      expect(batch.bodyBytes).toBeLessThan(4 * 1024 * 1024);
    }
    const tables = new Set(counter.batches.map((b) => b.table));
    expect(tables).toEqual(new Set(['PayloadChunks', 'IncidentHistory', 'Incidents']));
    const maxBody = Math.max(...counter.batches.map((b) => b.bodyBytes));
    process.stderr.write(
      `[tables] 1000 incidents incl. large, pages of 100: ${counter.total} round trips (${JSON.stringify(Object.fromEntries(counter.byKind))}); ${counter.batches.length} batches, largest body ${maxBody} bytes\n`,
    );

    // Everything reads back intact.
    const stored = await collect(fx.stores.snapshots.latest({ tenantId }));
    expect(stored).toHaveLength(1000);
    const expected = new Map(all.map((f) => [f.incidentId, JSON.stringify(f.incident)]));
    for (const s of stored) expect(JSON.stringify(s.incident)).toBe(expected.get(s.incidentId));
  }); // about 11 s on a quiet machine and 3–7× that under heavy load: jest.config.js's hang guard covers it

  it.each([50, 100])(
    'round trips per 1,000 new small incidents in pages of %i stay near the two-table minimum',
    async (pageSize) => {
      const tenantId = newTenantId();
      const all = incidents(1000, 5_000_000 + pageSize * 10_000, () => 1_500);
      counter.reset();

      expect(await writeInPages(tenantId, all, pageSize)).toBe(1000);

      const pages = 1000 / pageSize;
      const batches = counter.byKind.get('POST $batch') ?? 0;
      const reads = counter.total - batches;
      process.stderr.write(
        `[tables] 1000 new small incidents, pages of ${pageSize}: ${counter.total} round trips = ${batches} transactions + ${reads} reads\n`,
      );
      // Per page: the (history row, event row) pairs in ceil(2·page/100) transactions, the latest rows in
      // ceil(page/100); one range read of latest rows (clustered IDs) and, as each store-level writePage is its own
      // writer, one range read seeding its event sequence.
      expect(batches).toBe(pages * (Math.ceil((2 * pageSize) / 100) + Math.ceil(pageSize / 100)));
      expect(reads).toBe(2 * pages);

      // Re-writing the same pages: reads only, no writes.
      counter.reset();
      expect(await writeInPages(tenantId, all, pageSize)).toBe(0);
      expect(counter.byKind.get('POST $batch') ?? 0).toBe(0);
      expect(counter.total).toBe(pages);
    },
  );

  it('scattered IDs are read with chunked RowKey-eq queries of at most 15 comparisons', async () => {
    const tenantId = newTenantId();
    const all = Array.from({ length: 50 }, (_, i) =>
      fetched(graphIncident(String(1_000_000 + i * 7919), '2026-11-20T00:00:00Z')),
    );
    counter.reset();
    await fx.stores.snapshots.writePage(tenantId, 'graph', all);
    const reads = counter.total - (counter.byKind.get('POST $batch') ?? 0);
    // Plus the event-sequence seed of this write.
    expect(reads).toBe(Math.ceil(50 / 14) + 1);
  });
});
