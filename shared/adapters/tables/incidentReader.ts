/**
 * IncidentReader on Table Storage (design §10): pages of the Incidents table's summary columns, one incident's
 * latest row, and one incident's history rows (a range of its own RowKeys; event rows are outside it).
 *
 * Filters go to the service where it can apply them: tenant → PartitionKey, `since` → the fixed-width
 * `lastUpdateKey` column (the same order as comparing instants at the stored 100 ns precision). `status`/`severity`
 * are case-insensitive whatever casing was stored, which the Table service cannot compare: the service gets a
 * prefilter that every casing of the value passes (`caseInsensitivePrefilter`: ordinal ranges), and each row is
 * re-checked case-insensitively in memory. A page is bounded: at most MAX_REQUESTS_PER_PAGE requests of at most
 * `top` summary rows, plus a short look-ahead (MAX_PROBE_REQUESTS requests of 1, 2, 4… rows) when the page is full,
 * so that the last page carries no continuationToken.
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
/** Requests one page may make to fill itself when the service answers short pages (it may, with a continuation). */
const MAX_REQUESTS_PER_PAGE = 10;
/** Look-ahead requests after a full page (rows 1, 2, 4, … up to `top`): is there any matching row left? */
const MAX_PROBE_REQUESTS = 5;
/** The Table service's limit on discrete comparisons in one `$filter`. */
const MAX_FILTER_COMPARISONS = 15;
/** History rows read per response when streaming one incident's versions (each may be up to ~1 MiB). */
const VERSIONS_PAGE = 20;

type Entity = Record<string, unknown> & { partitionKey?: string; rowKey?: string };

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/**
 * A `$filter` term on `column` that every casing of `value` passes (Graph `inProgress`, legacy `InProgress`, or any
 * other), using at most `maxComparisons` comparisons (at least 2); undefined when `value` is not printable ASCII
 * (no service-side prefilter then: the caller's in-memory check alone decides).
 *
 * Why it holds: the service compares strings ordinally, and in ASCII every upper-case letter sorts before every
 * lower-case one, so any casing of a string lies between its UPPER and its lower form. The first k letters'
 * casings are enumerated (each a range `prefix + UPPER(rest)` … `prefix + lower(rest)`, or one `eq` when nothing is
 * left to case), k as large as the budget allows: the ranges also let through some other values (e.g. `Lazy` for
 * `low` at k = 1), which the caller drops in memory.
 */
export function caseInsensitivePrefilter(column: string, value: string, maxComparisons: number): string | undefined {
  if (!/^[\x20-\x7e]+$/.test(value)) return undefined;
  const isLetter = (c: string) => /[A-Za-z]/.test(c);
  const cost = (k: number) => {
    const variants = 2 ** [...value.slice(0, k)].filter(isLetter).length;
    return variants * ([...value.slice(k)].some(isLetter) ? 2 : 1);
  };
  let k = value.length;
  while (k > 0 && cost(k) > Math.max(2, maxComparisons)) k--;
  let prefixes = [''];
  for (const c of value.slice(0, k))
    prefixes = isLetter(c)
      ? prefixes.flatMap((p) => [p + c.toUpperCase(), p + c.toLowerCase()])
      : prefixes.map((p) => p + c);
  const rest = value.slice(k);
  const terms = prefixes.map((p) => {
    const low = p + rest.toUpperCase();
    const high = p + rest.toLowerCase();
    return low === high ? `${column} eq ${quote(low)}` : `(${column} ge ${quote(low)} and ${column} le ${quote(high)})`;
  });
  return terms.length === 1 ? (terms[0] as string) : `(${terms.join(' or ')})`;
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
    const cased = (['status', 'severity'] as const).filter((column) => query[column] !== undefined);
    // The comparisons left under the service's limit, shared by the case-insensitive columns.
    const perColumn = Math.floor((MAX_FILTER_COMPARISONS - filters.length) / Math.max(1, cased.length));
    for (const column of cased) {
      const prefilter = caseInsensitivePrefilter(column, query[column] as string, perColumn);
      if (prefilter !== undefined) filters.push(prefilter);
    }
    const lower = (v: unknown) => (asOptionalString(v) ?? '').toLowerCase();
    const matches = (row: Entity): boolean =>
      (query.since === undefined || compareInstants(asString(row.lastUpdateTime), query.since) >= 0) &&
      (query.status === undefined || lower(row.status) === query.status.toLowerCase()) &&
      (query.severity === undefined || lower(row.severity) === query.severity.toLowerCase());
    const read = async (size: number, token: string | undefined) => {
      const pages = this.incidents
        .listEntities<Entity>({
          queryOptions: { ...(filters.length > 0 ? { filter: filters.join(' and ') } : {}), select: SUMMARY_COLUMNS },
        })
        .byPage({ maxPageSize: size, ...(token !== undefined ? { continuationToken: token } : {}) });
      let next: IteratorResult<Entity[] & { continuationToken?: string }>;
      try {
        next = await pages.next();
      } catch (error) {
        throw toTableError(error, 'list incidents');
      }
      return next.done
        ? { rows: [], token: undefined }
        : { rows: next.value.filter(matches), token: next.value.continuationToken };
    };

    // Fill: every request asks for no more rows than the page has room for, so each service page is taken whole
    // and the service's own token resumes exactly after it (its tokens are opaque: we never make one up).
    const value: IncidentSummary[] = [];
    let token = query.continuationToken === undefined ? undefined : decodeToken(query.continuationToken);
    for (let request = 0; request < MAX_REQUESTS_PER_PAGE && value.length < query.top; request++) {
      const page = await read(query.top - value.length, token);
      value.push(...page.rows.map(toSummary));
      token = page.token;
      if (token === undefined) break;
    }
    // Look ahead from a full page's token: a matching row → more pages (the token still points before it); the end
    // → this is the last page (no token). Rows passed over matched nothing, so the token may move past them.
    let size = 1;
    for (let probe = 0; probe < MAX_PROBE_REQUESTS && token !== undefined && value.length >= query.top; probe++) {
      const page = await read(size, token);
      if (page.rows.length > 0) break;
      token = page.token;
      size = Math.min(size * 2, query.top);
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
