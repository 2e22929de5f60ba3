/**
 * Pure planning of one page's writes: which versions are new, which history rows and latest rows to write, and
 * the entities (with their encoded payloads) that carry them.
 */
import { compareInstants, toFixedWidth } from '../../domain/time.js';
import type { FetchedIncident, JsonObject, SourceKind } from '../../ports.js';
import { contentHash } from './canonicalJson.js';
import type { PlainEntity } from './entitySize.js';
import { encodeKey, historyRowKey } from './keys.js';
import { attachPayload, compressJson, type EncodedRow } from './payloadCodec.js';

export interface IncidentVersion {
  readonly incidentId: string;
  /** RowKey form of the incident ID. */
  readonly idKey: string;
  readonly lastUpdateTime: string;
  /** Fixed-width lastUpdateTime: sorts in time order, used in history RowKeys and `since` prefilters. */
  readonly lastUpdateKey: string;
  readonly hash: string;
  readonly incident: JsonObject;
}

/** What the Incidents table holds for an incident, as far as writing needs to know. */
export interface StoredLatest {
  readonly hash: string;
  readonly lastUpdateKey: string;
  readonly etag: string;
}

export function toVersion(fetched: FetchedIncident): IncidentVersion {
  return {
    incidentId: fetched.incidentId,
    idKey: encodeKey(fetched.incidentId),
    lastUpdateTime: fetched.lastUpdateTime,
    lastUpdateKey: toFixedWidth(fetched.lastUpdateTime),
    hash: contentHash(fetched.incident),
    incident: fetched.incident,
  };
}

export interface PagePlan {
  /** Versions to write to history, one per history RowKey (the page's last occurrence wins). */
  readonly history: readonly IncidentVersion[];
  /** Per incident, the newest changed version: candidate for the latest row. */
  readonly latest: readonly IncidentVersion[];
  /** History versions older than the stored latest: they may already exist in history (checked before counting). */
  readonly maybeExisting: readonly IncidentVersion[];
  /** History versions that are certainly new (newer than the stored latest, or no latest yet). */
  readonly certainlyNew: number;
}

/**
 * Skip versions whose content equals the stored latest, and the stored latest version itself in any content: a
 * version is (incident ID, lastUpdate instant) and the first stored copy stays (design §4), so the other source's
 * copy of the same version after a source switch is neither written again nor counted. Keep every other version for
 * history (two versions of one incident in a page both go to history); the newest per incident is the latest
 * candidate. Older versions may already be in history: the store writes only those that are not (maybeExisting).
 */
export function planPage(versions: readonly IncidentVersion[], stored: ReadonlyMap<string, StoredLatest>): PagePlan {
  const history = new Map<string, IncidentVersion>();
  const latest = new Map<string, IncidentVersion>();
  for (const v of versions) {
    const current = stored.get(v.idKey);
    if (current?.hash === v.hash) continue;
    if (current && compareInstants(v.lastUpdateKey, current.lastUpdateKey) === 0) continue;
    history.set(historyRowKey(v.idKey, v.lastUpdateKey), v);
    const best = latest.get(v.idKey);
    if (!best || compareInstants(v.lastUpdateKey, best.lastUpdateKey) >= 0) latest.set(v.idKey, v);
  }
  let certainlyNew = 0;
  const maybeExisting: IncidentVersion[] = [];
  for (const v of history.values()) {
    const current = stored.get(v.idKey);
    if (!current) certainlyNew++;
    else {
      // The same version never gets here (skipped above): newer is new, older may exist already.
      if (compareInstants(v.lastUpdateKey, current.lastUpdateKey) > 0) certainlyNew++;
      else maybeExisting.push(v);
    }
  }
  const latestToWrite = [...latest.values()].filter((v) => {
    const current = stored.get(v.idKey);
    return !current || compareInstants(v.lastUpdateKey, current.lastUpdateKey) >= 0;
  });
  return { history: [...history.values()], latest: latestToWrite, maybeExisting, certainlyNew };
}

/** Short text columns for operators browsing the table; the payload keeps the full value. */
function textColumn(value: unknown): string {
  return typeof value === 'string' ? value.slice(0, 1024) : '';
}

/** Title, status and severity: Graph names the title `displayName`, the legacy API `incidentName`. */
export function summaryColumns(incident: JsonObject): { title: string; status: string; severity: string } {
  return {
    title: textColumn(incident.displayName ?? incident.incidentName),
    status: textColumn(incident.status),
    severity: textColumn(incident.severity),
  };
}

export interface RowContext {
  readonly tenantId: string;
  readonly source: SourceKind;
  readonly snapshotAt: string;
}

/**
 * Compresses each distinct content once; history and latest rows of one version share it (and its chunks). The
 * payload keeps the API's key order (reads return the incident byte for byte as received), so it is serialized
 * apart from the canonical form the hash is computed on.
 */
export class RowEncoder {
  private readonly compressed = new Map<string, Buffer>();

  constructor(private readonly context: RowContext) {}

  encode(v: IncidentVersion, rowKey: string): EncodedRow {
    let bytes = this.compressed.get(v.hash);
    if (!bytes) {
      bytes = compressJson(JSON.stringify(v.incident));
      this.compressed.set(v.hash, bytes);
    }
    const base: PlainEntity = {
      partitionKey: this.context.tenantId,
      rowKey,
      incidentId: v.incidentId,
      source: this.context.source,
      lastUpdateTime: v.lastUpdateTime,
      lastUpdateKey: v.lastUpdateKey,
      ...summaryColumns(v.incident),
      contentHash: v.hash,
      snapshotAt: this.context.snapshotAt,
    };
    return attachPayload(base, v.hash, bytes);
  }
}
