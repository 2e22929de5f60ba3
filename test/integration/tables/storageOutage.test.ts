import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createTableStores, type TableStores } from '../../../shared/adapters/tables/tableStores.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { Azurite } from '../../../devstack/azurite.js';
import { collect, fetched, graphIncident, newTenantId } from './tableFixture.js';

let azurite: Azurite;
let stores: TableStores;

beforeAll(async () => {
  azurite = await new Azurite({ persistent: true }).start();
  stores = createTableStores({ kind: 'connectionString', connectionString: azurite.connectionString });
  await stores.ensureTables();
  await stores.ensureTables(); // idempotent
});

afterAll(async () => {
  await azurite?.stop();
});

describe('storage outage', () => {
  it('a stopped Azurite surfaces as a transient TABLE_ CollectorError without keys or contents, and writes succeed after restart', async () => {
    const tenantId = newTenantId();
    const incident = graphIncident('8001', '2026-11-20T00:00:00Z', 2_000);
    await stores.tenants.upsert(tenantId, { displayName: 'Secretive Corp', status: 'active' });
    await azurite.halt();

    const error = await stores.snapshots.writePage(tenantId, 'graph', [fetched(incident)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ kind: 'transient' });
    expect((error as CollectorError).code).toMatch(/^TABLE_/);
    expect((error as Error).message).not.toContain(tenantId);
    expect((error as Error).message).not.toContain('8001');
    await expect(stores.tenants.advanceCheckpoint(tenantId, '2026-11-20T00:00:00Z')).rejects.toMatchObject({
      kind: 'transient',
    });

    await azurite.start();
    expect((await stores.snapshots.writePage(tenantId, 'graph', [fetched(incident)])).changed).toBe(1);
    expect(await collect(stores.snapshots.latest({ tenantId }))).toHaveLength(1);
    expect((await stores.tenants.get(tenantId))?.displayName).toBe('Secretive Corp');
  });

  it('a service rejection (entity of a missing table) is a permanent TABLE_<errorCode> error', async () => {
    const client = stores.clients.client('incidents');
    await client.deleteTable();
    try {
      const error = await stores.snapshots
        .writePage(newTenantId(), 'graph', [fetched(graphIncident('1', '2026-11-20T00:00:00Z'))])
        .catch((e: unknown) => e);
      expect(error).toMatchObject({
        name: 'CollectorError',
        code: 'TABLE_TableNotFound',
        kind: 'permanent',
        status: 404,
      });
    } finally {
      await client.createTable();
    }
  });
});
