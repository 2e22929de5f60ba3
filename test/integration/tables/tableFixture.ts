/** Azurite plus the real table adapters over it, for the table integration tests. */
import { randomBytes } from 'node:crypto';
import type { TableClient } from '@azure/data-tables';
import {
  createTableStores,
  type TableStoreOptions,
  type TableStores,
} from '../../../shared/adapters/tables/tableStores.js';
import type { FetchedIncident, JsonObject, StoredSnapshot } from '../../../shared/ports.js';
import { Azurite } from '../../../devstack/azurite.js';

export interface TableFixture {
  readonly azurite: Azurite;
  readonly stores: TableStores;
  stop(): Promise<void>;
}

export async function startTables(options: TableStoreOptions = {}): Promise<TableFixture> {
  const azurite = await new Azurite().start();
  try {
    const stores = createTableStores({ kind: 'connectionString', connectionString: azurite.connectionString }, options);
    await stores.ensureTables();
    return { azurite, stores, stop: () => azurite.stop() };
  } catch (error) {
    await azurite.stop();
    throw error;
  }
}

/** A fresh tenant ID per test, so tests sharing one Azurite never see each other's rows. */
export function newTenantId(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

export async function countRows(client: TableClient, partitionKey: string): Promise<number> {
  let n = 0;
  for await (const _ of client.listEntities({
    queryOptions: { filter: `PartitionKey eq '${partitionKey}'`, select: ['RowKey'] },
  }))
    n++;
  return n;
}

/**
 * Rows of a tenant's IncidentHistory partition by kind: history rows (versions) and event rows (RowKeys from `~ev_`),
 * counted from the raw table. Every version has exactly one event, so tests expect both equal.
 */
export async function historyAndEvents(
  client: TableClient,
  partitionKey: string,
): Promise<{ versions: number; events: number; other: number }> {
  const counts = { versions: 0, events: 0, other: 0 };
  for await (const row of client.listEntities({
    queryOptions: { filter: `PartitionKey eq '${partitionKey}'`, select: ['RowKey'] },
  })) {
    const key = String(row.rowKey);
    if (!key.startsWith('~')) counts.versions++;
    else if (key.startsWith('~ev_')) counts.events++;
    else counts.other++;
  }
  return counts;
}

/** Deterministic pseudo-random bytes (mulberry32), so large payloads are poorly compressible yet reproducible. */
export function seededBytes(seed: number, length: number): Buffer {
  let a = seed >>> 0;
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

const WORDS = [
  'ransomware',
  'lateral movement',
  'credential theft',
  'phishing',
  'suspicious PowerShell',
  'defense evasion',
  'exfiltration',
];

/** A Graph-shaped incident of roughly `approxBytes` JSON, mostly base64 of seeded random bytes inside strings. */
export function graphIncident(
  id: string,
  lastUpdateDateTime: string,
  approxBytes = 1500,
  seed = Number(id) || 7,
): JsonObject {
  const alerts: JsonObject[] = [];
  let size = 600;
  for (let i = 0; size < approxBytes; i++) {
    const blob = seededBytes(
      seed * 1000 + i,
      Math.min(48_000, Math.max(16, Math.floor((approxBytes - size) * 0.74))),
    ).toString('base64');
    alerts.push({
      id: `da${id}_${i}`,
      title: `${WORDS[i % WORDS.length]} on host-${i}`,
      description: `Evidence ${i}: ${blob}`,
      severity: 'high',
      status: 'new',
    });
    size += blob.length + 160;
  }
  return {
    '@odata.type': '#microsoft.graph.security.incident',
    id,
    tenantId: 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
    status: 'active',
    severity: 'medium',
    displayName: `Multi-stage incident involving ${WORDS[Number(id) % WORDS.length]}`,
    createdDateTime: '2026-11-01T10:00:00.1234567Z',
    lastUpdateDateTime,
    classification: 'unknown',
    determination: 'unknown',
    tags: ['collector-test'],
    alerts,
  };
}

export function fetched(incident: JsonObject, idField = 'id', timeField = 'lastUpdateDateTime'): FetchedIncident {
  return { incidentId: String(incident[idField]), lastUpdateTime: String(incident[timeField]), incident };
}

export function byId(snapshots: readonly StoredSnapshot[]): Map<string, StoredSnapshot> {
  return new Map(snapshots.map((s) => [s.incidentId, s]));
}
