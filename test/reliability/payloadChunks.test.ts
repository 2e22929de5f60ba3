/**
 * Regression: PayloadChunks rows must belong to the bytes a row was written with. Two writers storing the same
 * incident version with different key order (same canonical content hash, different gzip bytes and length) must
 * not break each other's rows: here the second writer's chunk rows land after the first writer's rows, as in a
 * race between two workers. Before the fix chunk keys were the content hash, so the first rows then read as
 * TABLE_PAYLOAD_CORRUPT.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TableClient } from '@azure/data-tables';
import { RowEncoder, toVersion } from '../../shared/adapters/tables/snapshotRows.js';
import type { FetchedIncident, JsonObject } from '../../shared/ports.js';
import {
  collect,
  newTenantId,
  seededBytes,
  startTables,
  type TableFixture,
} from '../integration/tables/tableFixture.js';

function reversedKeys(value: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(value).reverse());
}

describe('payload chunks under a racing writer', () => {
  let fx: TableFixture;

  beforeAll(async () => {
    fx = await startTables();
  });

  afterAll(async () => {
    await fx?.stop();
  });

  it('rows written first still read back after another encoding of the same version wrote its chunks', async () => {
    const tenantId = newTenantId();
    const incident: JsonObject = {
      id: '4242',
      displayName: 'Large incident',
      status: 'active',
      severity: 'high',
      lastUpdateDateTime: '2026-11-20T10:00:00.1234567Z',
      blob: seededBytes(42, 1_600_000).toString('base64'),
      comments: [{ comment: 'x'.repeat(1000) }],
    };
    const fetched: FetchedIncident = {
      incidentId: '4242',
      lastUpdateTime: incident.lastUpdateDateTime as string,
      incident,
    };
    await fx.stores.snapshots.writePage(tenantId, 'graph', [fetched]);

    // The racing writer's chunk step for the same version in another key order.
    const other = toVersion({ ...fetched, incident: reversedKeys(incident) });
    expect(other.hash).toBe(toVersion(fetched).hash);
    const encoded = new RowEncoder({ tenantId, source: 'graph', snapshotAt: new Date().toISOString() }).encode(
      other,
      other.idKey,
    );
    expect(encoded.chunks.length).toBeGreaterThan(0);
    const chunks = TableClient.fromConnectionString(fx.azurite.connectionString, 'PayloadChunks', {
      allowInsecureConnection: true,
    });
    for (const chunk of encoded.chunks) await chunks.upsertEntity(chunk, 'Replace');

    const latest = await collect(fx.stores.snapshots.latest({ tenantId }));
    const history = await collect(fx.stores.snapshots.history({ tenantId }));
    expect(latest.map((s) => s.incident)).toEqual([incident]);
    expect(history.map((s) => s.incident)).toEqual([incident]);
  });
});
