import { describe, expect, it } from '@jest/globals';
import { TableClient } from '@azure/data-tables';
import { Azurite } from '../../devstack/azurite.js';

describe('Azurite launcher', () => {
  it('starts on free loopback ports and serves tables', async () => {
    const az = await new Azurite().start();
    try {
      const client = TableClient.fromConnectionString(az.connectionString, 'Smoke', { allowInsecureConnection: true });
      await client.createTable();
      await client.createEntity({ partitionKey: 'p', rowKey: 'r', value: 'v' });
      const e = await client.getEntity<{ value: string }>('p', 'r');
      expect(e.value).toBe('v');
    } finally {
      await az.stop();
    }
  });
});
