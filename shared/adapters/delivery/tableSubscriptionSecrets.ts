/**
 * SubscriptionSecretStore on the `SubscriptionSecrets` table (PK `secret`, RK subscription ID, column `secret`):
 * for local development only, when no SUBSCRIPTION_VAULT_URL is set (design §9: in Azure the secrets live in a
 * Key Vault of their own). Every value read or written is registered with the log redactor.
 */
import type { TableClient } from '@azure/data-tables';
import { NotFoundError } from '../../domain/errors.js';
import { ErrorCode } from '../../domain/errorCodes.js';
import { registerSecret } from '../../log.js';
import type { SubscriptionSecretStore } from '../../ports.js';
import { asString } from '../tables/entityValues.js';
import { assertSafeKey } from '../tables/keys.js';
import type { TableClients } from '../tables/tableClients.js';
import { hasStatus, tableCall, toTableError } from '../tables/tableErrors.js';

export const SECRET_PARTITION = 'secret';

export class TableSubscriptionSecrets implements SubscriptionSecretStore {
  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('subscriptionSecrets');
  }

  async put(subscriptionId: string, secret: string): Promise<void> {
    registerSecret(secret);
    const entity = { partitionKey: SECRET_PARTITION, rowKey: assertSafeKey(subscriptionId, 'subscription ID'), secret };
    await tableCall('save subscription secret', () => this.table.upsertEntity(entity, 'Replace'));
  }

  async get(subscriptionId: string): Promise<string> {
    try {
      const row = await this.table.getEntity<Record<string, unknown>>(
        SECRET_PARTITION,
        assertSafeKey(subscriptionId, 'subscription ID'),
      );
      const secret = asString(row.secret);
      registerSecret(secret);
      return secret;
    } catch (error) {
      if (hasStatus(error, 404))
        throw new NotFoundError(
          `No secret is stored for subscription ${subscriptionId}.`,
          ErrorCode.SUBSCRIPTION_SECRET_NOT_FOUND,
        );
      throw toTableError(error, 'read subscription secret');
    }
  }

  async delete(subscriptionId: string): Promise<void> {
    try {
      await this.table.deleteEntity(SECRET_PARTITION, assertSafeKey(subscriptionId, 'subscription ID'));
    } catch (error) {
      if (!hasStatus(error, 404)) throw toTableError(error, 'delete subscription secret');
    }
  }
}
