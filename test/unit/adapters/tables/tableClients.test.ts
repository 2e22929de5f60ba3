import { describe, expect, it } from '@jest/globals';
import type { TokenCredential } from '@azure/identity';
import { createTableClients, TABLE_NAMES } from '../../../../shared/adapters/tables/tableClients.js';

const credential: TokenCredential = { getToken: async () => null };

describe('createTableClients', () => {
  it('builds identity-based clients lazily, once per table, against the table service URI', () => {
    const clients = createTableClients(
      {
        kind: 'identity',
        tableServiceUri: 'https://acct.table.core.windows.net',
        queueServiceUri: 'https://acct.queue.core.windows.net',
      },
      { credential },
    );
    const tenants = clients.client('tenants');
    expect(tenants.tableName).toBe('Tenants');
    expect(tenants.url).toBe('https://acct.table.core.windows.net');
    expect(clients.client('tenants')).toBe(tenants);
    expect(Object.values(TABLE_NAMES)).toEqual([
      'Tenants',
      'Incidents',
      'IncidentHistory',
      'Runs',
      'PayloadChunks',
      'Leases',
      'ConsentStates',
      'RejectedIncidents',
      'Subscriptions',
      'DeliveryState',
      'SubscriptionSecrets',
    ]);
  });

  it('builds connection-string clients for Azurite', () => {
    const clients = createTableClients({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' });
    expect(clients.client('history').tableName).toBe('IncidentHistory');
    expect(clients.client('history').url).toContain('127.0.0.1:10002');
  });
});
