/**
 * SubscriptionStore on the `Subscriptions` table (design §9: PK `subscription`, RK subscription ID). Columns: kind,
 * url | endpoint, ruleId, stream, filters (JSON), status, createdAt, disabledReason. Never a secret.
 */
import { odata, type TableClient } from '@azure/data-tables';
import { NotFoundError } from '../../domain/errors.js';
import { ErrorCode } from '../../domain/errorCodes.js';
import type {
  SubscriptionFilters,
  SubscriptionKind,
  SubscriptionRecord,
  SubscriptionStatus,
} from '../../domain/subscription.js';
import type { SubscriptionStore } from '../../ports.js';
import { asOptionalString, asString, definedOnly } from './entityValues.js';
import { assertSafeKey } from './keys.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';

export const SUBSCRIPTION_PARTITION = 'subscription';

type Row = Record<string, unknown> & { etag?: string };

function notFound(id: string): NotFoundError {
  return new NotFoundError(`Subscription ${id} does not exist.`, ErrorCode.SUBSCRIPTION_NOT_FOUND);
}

function toRecord(row: Row): SubscriptionRecord {
  const kind = asString(row.kind) as SubscriptionKind;
  const optional = (name: string) => {
    const v = asOptionalString(row[name]);
    return v === undefined ? {} : { [name]: v };
  };
  let filters: SubscriptionFilters;
  try {
    filters = JSON.parse(asString(row.filters, '{}')) as SubscriptionFilters;
  } catch {
    filters = {};
  }
  return {
    id: asString(row.rowKey),
    kind,
    ...optional('url'),
    ...optional('endpoint'),
    ...optional('ruleId'),
    ...optional('stream'),
    filters,
    status: asString(row.status) === 'disabled' ? 'disabled' : 'active',
    createdAt: asString(row.createdAt),
    ...optional('disabledReason'),
  };
}

export class TableSubscriptionStore implements SubscriptionStore {
  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('subscriptions');
  }

  async add(record: SubscriptionRecord): Promise<void> {
    const { id, filters, ...rest } = record;
    const entity = {
      partitionKey: SUBSCRIPTION_PARTITION,
      rowKey: assertSafeKey(id, 'subscription ID'),
      ...definedOnly({ ...rest }),
      filters: JSON.stringify(filters),
    };
    await tableCall('add subscription', () => this.table.createEntity(entity));
  }

  async get(id: string): Promise<SubscriptionRecord | undefined> {
    try {
      return toRecord(await this.table.getEntity<Row>(SUBSCRIPTION_PARTITION, assertSafeKey(id, 'subscription ID')));
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read subscription');
    }
  }

  async list(): Promise<SubscriptionRecord[]> {
    return tableCall('list subscriptions', async () => {
      const out: SubscriptionRecord[] = [];
      const filter = odata`PartitionKey eq ${SUBSCRIPTION_PARTITION}`;
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter } })) out.push(toRecord(row));
      return out.sort((a, b) => a.id.localeCompare(b.id));
    });
  }

  async setStatus(id: string, status: SubscriptionStatus, reason?: string): Promise<SubscriptionRecord> {
    const key = assertSafeKey(id, 'subscription ID');
    try {
      await this.table.updateEntity(
        {
          partitionKey: SUBSCRIPTION_PARTITION,
          rowKey: key,
          status,
          disabledReason: status === 'disabled' ? (reason ?? '') : '',
        },
        'Merge',
        { etag: '*' },
      );
    } catch (error) {
      if (hasStatus(error, 404)) throw notFound(id);
      throw toTableError(error, 'update subscription');
    }
    const stored = await this.get(key);
    if (!stored) throw notFound(id);
    return stored;
  }

  async remove(id: string): Promise<void> {
    try {
      await this.table.deleteEntity(SUBSCRIPTION_PARTITION, assertSafeKey(id, 'subscription ID'));
    } catch (error) {
      if (hasStatus(error, 404)) throw notFound(id);
      throw toTableError(error, 'remove subscription');
    }
  }
}
