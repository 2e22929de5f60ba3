/**
 * The read API's store reads stay bounded: a page of `top` rows is one request for `top` summary rows (never the
 * tenant's table, never payloads) plus, when the page is full, a one-row look-ahead that decides whether a token is
 * returned; its continuation resumes exactly where it stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRequestCounter } from './requestCounter.js';
import { fetched, graphIncident, newTenantId, startTables, type TableFixture } from './tableFixture.js';

const counter = createRequestCounter();
let fx: TableFixture;
const tenantId = newTenantId();

beforeAll(async () => {
  fx = await startTables({ additionalPolicies: counter.additionalPolicies });
  const all = Array.from({ length: 300 }, (_, i) =>
    fetched({
      ...graphIncident(
        String(8_000_000 + i),
        `2026-11-20T10:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`,
        600,
      ),
      status: i % 3 === 0 ? 'resolved' : 'active',
    }),
  );
  for (let i = 0; i < all.length; i += 100)
    await fx.stores.snapshots.writePage(tenantId, 'graph', all.slice(i, i + 100));
});

afterAll(async () => {
  await fx?.stop();
});

describe('TableIncidentReader', () => {
  it('reads one page of top summary rows per request (and a one-row look-ahead) and resumes from its token', async () => {
    counter.reset();
    const first = await fx.stores.incidents.latestPage({ tenantId, top: 5 });
    expect(Object.fromEntries(counter.byKind)).toEqual({ 'GET Incidents': 2 });
    expect(first.value.map((r) => r.incidentId)).toEqual(['8000000', '8000001', '8000002', '8000003', '8000004']);
    expect(first.continuationToken).toBeDefined();

    counter.reset();
    const second = await fx.stores.incidents.latestPage({
      tenantId,
      top: 5,
      status: 'RESOLVED',
      continuationToken: first.continuationToken as string,
    });
    expect(counter.total).toBe(2);
    expect(second.value.map((r) => [r.incidentId, r.status])).toEqual([
      ['8000006', 'resolved'],
      ['8000009', 'resolved'],
      ['8000012', 'resolved'],
      ['8000015', 'resolved'],
      ['8000018', 'resolved'],
    ]);
  });

  it('the last page has no token', async () => {
    const page = await fx.stores.incidents.latestPage({ tenantId, top: 500, since: '2026-11-20T10:04:00Z' });
    expect(page.value).toHaveLength(60);
    expect(page.continuationToken).toBeUndefined();
  });
});
