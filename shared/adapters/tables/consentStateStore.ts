/**
 * ConsentStateStore on the `ConsentStates` table (PK `state`, RK sha256 hex of the state). Only the hash is stored,
 * so someone who can read the table cannot obtain a usable state. Consuming is an ETag-conditional delete: of
 * concurrent consumers exactly one succeeds; the others see 404/412 and get undefined. States of links nobody
 * used are deleted once expired (deleteExpired), so the table holds about one day of links.
 */
import { createHash } from 'node:crypto';
import { odata, type TableClient } from '@azure/data-tables';
import { mapBounded } from '../../lib/bounded.js';
import type { ConsentState, ConsentStateStore } from '../../ports.js';
import { asOptionalString, asString, definedOnly } from './entityValues.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';

export const CONSENT_PARTITION = 'state';
const DELETE_CONCURRENCY = 4;

type Row = Record<string, unknown> & { etag?: string };

export function stateKey(state: string): string {
  return createHash('sha256').update(state, 'utf8').digest('hex');
}

function toRecord(row: Row): ConsentState {
  const tenantId = asOptionalString(row.tenantId);
  const displayName = asOptionalString(row.displayName);
  const source = asOptionalString(row.source);
  return {
    ...(tenantId !== undefined ? { tenantId } : {}),
    ...(displayName !== undefined ? { displayName } : {}),
    ...(source === 'graph' || source === 'm365d' ? { source } : {}),
    createdAt: asString(row.createdAt),
    expiresAt: asString(row.expiresAt),
  };
}

export class TableConsentStateStore implements ConsentStateStore {
  constructor(private readonly tables: TableClients) {}

  private get table(): TableClient {
    return this.tables.client('consentStates');
  }

  async save(state: string, record: ConsentState): Promise<void> {
    const entity = { partitionKey: CONSENT_PARTITION, rowKey: stateKey(state), ...definedOnly({ ...record }) };
    await tableCall('save consent state', () => this.table.upsertEntity(entity, 'Replace'));
  }

  async deleteExpired(now: string, limit: number): Promise<number> {
    const keys = await tableCall('list expired consent states', async () => {
      const found: string[] = [];
      const filter = odata`PartitionKey eq ${CONSENT_PARTITION} and expiresAt lt ${now}`;
      for await (const row of this.table.listEntities<Row>({ queryOptions: { filter, select: ['RowKey'] } })) {
        if (found.length >= limit) break;
        found.push(asString(row.rowKey));
      }
      return found;
    });
    const deleted = await mapBounded(keys, DELETE_CONCURRENCY, async (key) => {
      try {
        await this.table.deleteEntity(CONSENT_PARTITION, key);
        return true;
      } catch (error) {
        // Consumed (or pruned by another caller) in the meantime.
        if (hasStatus(error, 404)) return false;
        throw toTableError(error, 'delete expired consent state');
      }
    });
    return deleted.filter(Boolean).length;
  }

  async consume(state: string): Promise<ConsentState | undefined> {
    const key = stateKey(state);
    let row: Row;
    try {
      row = await this.table.getEntity<Row>(CONSENT_PARTITION, key);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read consent state');
    }
    try {
      await this.table.deleteEntity(CONSENT_PARTITION, key, { etag: asString(row.etag) });
    } catch (error) {
      // Another consumer deleted it first.
      if (hasStatus(error, 404, 412)) return undefined;
      throw toTableError(error, 'consume consent state');
    }
    return toRecord(row);
  }
}
