/**
 * IncidentReader on Table Storage (design §10): pages of the Incidents table's summary columns, one incident's
 * latest row, and one incident's history rows (a range of its own RowKeys; event rows are outside it).
 *
 * Filters go to the service so a page never reads more rows than it answers: tenant → PartitionKey, `since` → the
 * fixed-width `lastUpdateKey` column (the same order as comparing instants at the stored 100 ns precision), and
 * `status`/`severity` → a disjunction of the casings the two APIs use for the value (given, lower, UPPER,
 * Capitalised, and the documented camelCase/PascalCase forms), re-checked case-insensitively in memory.
 */
import type { TableClient } from '@azure/data-tables';
import { InputError } from '../../domain/errors.js';
import { compareInstants, toFixedWidth } from '../../domain/time.js';
import type {
  IncidentReader,
  IncidentSummary,
  LatestPage,
  LatestPageQuery,
  SourceKind,
  StoredSnapshot,
} from '../../ports.js';
import { asOptionalString, asString } from './entityValues.js';
import { decodeKey, encodeKey, historyRowKey, idKeyOfHistoryRowKey, tenantKey } from './keys.js';
import { lookupFilter } from './keyLookupPlan.js';
import type { TableSnapshotStore } from './snapshotStore.js';
import type { TableClients } from './tableClients.js';
import { hasStatus, tableCall, toTableError } from './tableErrors.js';

const SUMMARY_COLUMNS = [
  'PartitionKey',
  'RowKey',
  'incidentId',
  'lastUpdateTime',
  'source',
  'snapshotAt',
  'status',
  'severity',
  'title',
];
/** Requests one page may make when the service answers short pages (it may, with a continuation). */
const MAX_REQUESTS_PER_PAGE = 10;
/** History rows read per response when streaming one incident's versions (each may be up to ~1 MiB). */
const VERSIONS_PAGE = 20;

/** Values whose documented casing is not derivable from the lower-case form (Graph camelCase). */
const KNOWN_VALUES = ['inProgress', 'unknownFutureValue', 'awaitingAction'];

type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string };

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The casings of a value the two APIs may have stored (Graph `inProgress`, legacy `InProgress`, …). */
export function casings(value: string): string[] {
  const lower = value.toLowerCase();
  const capital = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
  const out = new Set([value, lower, value.toUpperCase(), capital(lower)]);
  for (const known of KNOWN_VALUES) {
    if (known.toLowerCase() === lower) {
      out.add(known);
      out.add(capital(known));
    }
  }
  return [...out];
}

/** The opaque token: base64url of the Table SDK's continuation (base64 of `{ nextPartitionKey, nextRowKey }`). */
function encodeToken(tableToken: string): string {
  return Buffer.from(tableToken, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const bad = () =>
    new InputError('continuationToken', 'continuationToken is not a token returned by a previous page of this list.');
  if (token.length > 4096 || !/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const tableToken = Buffer.from(token, 'base64url').toString('utf8');
  try {
    const parsed = JSON.parse(Buffer.from(tableToken, 'base64').toString('utf8')) as unknown;
    if (
      parsed === null ||
      typeof parsed !== 'object' ||
      typeof (parsed as { nextPartitionKey?: unknown }).nextPartitionKey !== 'string'
    )
      throw bad();
  } catch {
    throw bad();
  }
  return tableToken;
}

function toSummary(row: Entity): IncidentSummary {
  return {
    tenantId: asString(row.partitionKey),
    incidentId: asOptionalString(row.incidentId) ?? decodeKey(asString(row.rowKey)),
    lastUpdateTime: asString(row.lastUpdateTime),
    source: asString(row.source) as SourceKind,
    snapshotAt: asString(row.snapshotAt),
    status: asOptionalString(row.status) ?? '',
    severity: asOptionalString(row.severity) ?? '',
    title: asOptionalString(row.title) ?? '',
  };
}

export class TableIncidentReader implements IncidentReader {
  constructor(
    private readonly tables: TableClients,
    /** Decodes stored rows (payload chunks included) exactly as latest()/history() do. */
    private readonly snapshots: TableSnapshotStore,
  ) {}

  private get incidents(): TableClient {
    return this.tables.client('incidents');
  }

  private get history(): TableClient {
    return this.tables.client('history');
  }

  async latestPage(query: LatestPageQuery): Promise<LatestPage> {
    const filters: string[] = [];
    if (query.tenantId !== undefined) filters.push(`PartitionKey eq ${quote(tenantKey(query.tenantId))}`);
    if (query.since !== undefined) filters.push(`lastUpdateKey ge ${quote(toFixedWidth(query.since))}`);
    for (const column of ['status', 'severity'] as const) {
      const value = query[column];
      if (value !== undefined)
        filters.push(
          `(${casings(value)
            .map((c) => `${column} eq ${quote(c)}`)
            .join(' or ')})`,
        );
    }
    const matches = (row: Entity): boolean =>
      (query.since === undefined || compareInstants(asString(row.lastUpdateTime), query.since) >= 0) &&
      (query.status === undefined || asString(row.status).toLowerCase() === query.status.toLowerCase()) &&
      (query.severity === undefined || asString(row.severity).toLowerCase() === query.severity.toLowerCase());

    const value: IncidentSummary[] = [];
    let token = query.continuationToken === undefined ? undefined : decodeToken(query.continuationToken);
    for (let request = 0; request < MAX_REQUESTS_PER_PAGE && value.length < query.top; request++) {
      const pages = this.incidents
        .listEntities<Entity>({
          queryOptions: { ...(filters.length > 0 ? { filter: filters.join(' and ') } : {}), select: SUMMARY_COLUMNS },
        })
        .byPage({
          maxPageSize: query.top - value.length,
          ...(token !== undefined ? { continuationToken: token } : {}),
        });
      let next: IteratorResult<Entity[] & { continuationToken?: string }>;
      try {
        next = await pages.next();
      } catch (error) {
        throw toTableError(error, 'list incidents');
      }
      if (next.done) {
        token = undefined;
        break;
      }
      for (const row of next.value) if (matches(row)) value.push(toSummary(row));
      token = next.value.continuationToken;
      if (token === undefined) break;
    }
    return token === undefined ? { value } : { value, continuationToken: encodeToken(token) };
  }

  async latestOf(rawTenantId: string, incidentId: string): Promise<StoredSnapshot | undefined> {
    const tenantId = tenantKey(rawTenantId);
    let row: Entity;
    try {
      row = await this.incidents.getEntity<Entity>(tenantId, encodeKey(incidentId));
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read incident');
    }
    return this.snapshots.toSnapshot(row);
  }

  async *versionsOf(rawTenantId: string, incidentId: string): AsyncGenerator<StoredSnapshot> {
    const tenantId = tenantKey(rawTenantId);
    const idKey = encodeKey(incidentId);
    // `<idKey>_` up to the largest possible version suffix: this incident's history rows, never an event row.
    const filter = lookupFilter(tenantId, {
      kind: 'range',
      from: `${idKey}_`,
      to: historyRowKey(idKey, '9999-12-31T23:59:59.9999999Z'),
    });
    const pages = this.history
      .listEntities<Entity>({ queryOptions: { filter } })
      .byPage({ maxPageSize: VERSIONS_PAGE });
    for (;;) {
      const next = await tableCall('read incident versions', () => pages.next());
      if (next.done) return;
      for (const row of next.value) {
        if (idKeyOfHistoryRowKey(asString(row.rowKey)) !== idKey) continue;
        yield await this.snapshots.toSnapshot(row);
      }
    }
  }
}
