/**
 * DeliveryStateStore on the `DeliveryState` table. PK = subscription ID, so one partition query reads a
 * subscription's whole state (a delivery pass, `subscriptions list`). RowKeys:
 * - `<tenant>|c`: cursor (`sequence`, `replayed`); writes are ETag-conditional (a replay's reset wins);
 * - `<tenant>|d|<sequence, 16 digits>`: a dead letter;
 * - `<tenant>|p|<incident key>`: a pending incident (`sequences` JSON, attempt, nextAttemptAt, last error).
 * `|` sorts after the tenant ID's characters, and `c` < `d` < `p`, so a pair's rows are one RowKey range.
 */
import { odata, type TableClient } from '@azure/data-tables';
import type { IncidentEventType } from '../../ports.js';
import type {
  DeadLetter,
  DeliveryStateStore,
  PairState,
  PendingIncident,
  SubscriptionDeliveryState,
} from '../../ports.js';
import { mapBounded } from '../../lib/bounded.js';
import { asNumber, asOptionalString, asString, definedOnly } from './entityValues.js';
import { assertSafeKey, decodeKey, encodeKey, tenantKey } from './keys.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';

type Row = Record<string, unknown> & { etag?: string };

const cursorKey = (tenant: string) => `${tenantKey(tenant)}|c`;
const pendingKey = (tenant: string, incidentId: string) => `${tenantKey(tenant)}|p|${encodeKey(incidentId)}`;
const letterKey = (tenant: string, sequence: number) => `${tenantKey(tenant)}|d|${String(sequence).padStart(16, '0')}`;

function toPending(row: Row): PendingIncident {
  const rk = asString(row.rowKey);
  const lastErrorCode = asOptionalString(row.lastErrorCode);
  const lastError = asOptionalString(row.lastError);
  return {
    tenantId: rk.slice(0, rk.indexOf('|')),
    incidentId: decodeKey(rk.slice(rk.indexOf('|p|') + 3)),
    sequences: JSON.parse(asString(row.sequences, '[]')) as number[],
    attempt: asNumber(row.attempt) ?? 0,
    nextAttemptAt: asString(row.nextAttemptAt),
    ...(lastErrorCode !== undefined ? { lastErrorCode } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
  };
}

function toLetter(subscriptionId: string, row: Row): DeadLetter {
  const rk = asString(row.rowKey);
  return {
    subscriptionId,
    tenantId: rk.slice(0, rk.indexOf('|')),
    sequence: asNumber(row.sequence) ?? 0,
    incidentId: asString(row.incidentId),
    eventId: asString(row.eventId),
    type: asString(row.type) as IncidentEventType,
    eventTime: asString(row.eventTime),
    attempts: asNumber(row.attempts) ?? 0,
    lastErrorCode: asString(row.lastErrorCode),
    lastError: asString(row.lastError),
    deadLetteredAt: asString(row.deadLetteredAt),
  };
}

export class TableDeliveryStateStore implements DeliveryStateStore {
  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('deliveryState');
  }

  private async rows(filter: string, operation: string): Promise<Row[]> {
    return tableCall(operation, async () => {
      const out: Row[] = [];
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter } })) out.push(row);
      return out;
    });
  }

  async state(subscriptionId: string): Promise<SubscriptionDeliveryState> {
    const pk = assertSafeKey(subscriptionId, 'subscription ID');
    const rows = await this.rows(odata`PartitionKey eq ${pk}`, 'read delivery state');
    const cursors = new Map<string, number>();
    const pending: PendingIncident[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const row of rows) {
      const rk = asString(row.rowKey);
      const kind = rk.slice(rk.indexOf('|') + 1, rk.indexOf('|') + 2);
      if (kind === 'c') cursors.set(rk.slice(0, rk.indexOf('|')), asNumber(row.sequence) ?? 0);
      else if (kind === 'p') pending.push(toPending(row));
      else if (kind === 'd') deadLetters.push(toLetter(pk, row));
    }
    return { cursors, pending, deadLetters };
  }

  async pair(subscriptionId: string, tenantId: string): Promise<PairState> {
    const pk = assertSafeKey(subscriptionId, 'subscription ID');
    const t = tenantKey(tenantId);
    const filter = odata`PartitionKey eq ${pk} and (RowKey eq ${`${t}|c`} or (RowKey ge ${`${t}|p|`} and RowKey lt ${`${t}|p}`}))`;
    const rows = await this.rows(filter, 'read delivery pair');
    const cursorRow = rows.find((r) => asString(r.rowKey) === `${t}|c`);
    const pending = rows.filter((r) => r !== cursorRow).map(toPending);
    return cursorRow
      ? {
          cursor: asNumber(cursorRow.sequence) ?? 0,
          cursorVersion: asString(cursorRow.etag),
          replayed: cursorRow.replayed === true,
          pending,
        }
      : { pending };
  }

  async saveCursor(
    subscriptionId: string,
    tenantId: string,
    sequence: number,
    version?: string,
  ): Promise<string | undefined> {
    const entity = {
      partitionKey: assertSafeKey(subscriptionId, 'subscription ID'),
      rowKey: cursorKey(tenantId),
      sequence,
    };
    try {
      const answer =
        version === undefined
          ? await this.table.createEntity({ ...entity, replayed: false })
          : await this.table.updateEntity(entity, 'Merge', { etag: version });
      return answer.etag;
    } catch (error) {
      if (hasStatus(error, 409, 412, 404)) return undefined;
      throw toTableError(error, 'save delivery cursor');
    }
  }

  async resetCursor(subscriptionId: string, tenantId: string, sequence: number): Promise<void> {
    const entity = {
      partitionKey: assertSafeKey(subscriptionId, 'subscription ID'),
      rowKey: cursorKey(tenantId),
      sequence,
      replayed: true,
    };
    await tableCall('reset delivery cursor', () => this.table.upsertEntity(entity, 'Replace'));
  }

  async putPending(subscriptionId: string, p: PendingIncident): Promise<void> {
    const entity = {
      partitionKey: assertSafeKey(subscriptionId, 'subscription ID'),
      rowKey: pendingKey(p.tenantId, p.incidentId),
      ...definedOnly({
        sequences: JSON.stringify(p.sequences),
        attempt: p.attempt,
        nextAttemptAt: p.nextAttemptAt,
        lastErrorCode: p.lastErrorCode,
        lastError: p.lastError,
      }),
    };
    await tableCall('save pending delivery', () => this.table.upsertEntity(entity, 'Replace'));
  }

  private async deleteRow(pk: string, rk: string, operation: string): Promise<void> {
    try {
      await this.table.deleteEntity(pk, rk);
    } catch (error) {
      if (!hasStatus(error, 404)) throw toTableError(error, operation);
    }
  }

  async deletePending(subscriptionId: string, tenantId: string, incidentId: string): Promise<void> {
    await this.deleteRow(
      assertSafeKey(subscriptionId, 'subscription ID'),
      pendingKey(tenantId, incidentId),
      'delete pending delivery',
    );
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    const { subscriptionId, tenantId, ...rest } = letter;
    const entity = {
      partitionKey: assertSafeKey(subscriptionId, 'subscription ID'),
      rowKey: letterKey(tenantId, letter.sequence),
      ...definedOnly({ ...rest }),
    };
    await tableCall('save dead letter', () => this.table.upsertEntity(entity, 'Replace'));
  }

  async deleteDeadLetter(subscriptionId: string, tenantId: string, sequence: number): Promise<void> {
    await this.deleteRow(
      assertSafeKey(subscriptionId, 'subscription ID'),
      letterKey(tenantId, sequence),
      'delete dead letter',
    );
  }

  async purge(subscriptionId: string): Promise<void> {
    const pk = assertSafeKey(subscriptionId, 'subscription ID');
    const rows = await this.rows(odata`PartitionKey eq ${pk}`, 'read delivery state');
    await mapBounded(rows, 4, (row) => this.deleteRow(pk, asString(row.rowKey), 'purge delivery state'));
  }
}
