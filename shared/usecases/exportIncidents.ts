/**
 * `incidents export` (design §5): NDJSON, one line per stored snapshot — the latest by default, every version
 * with `history` — streamed from the store, never accumulated.
 */
import { parseTenantId } from './tenants.js';
import { ConfigError } from '../domain/errors.js';
import { isTimestamp } from '../domain/time.js';
import type { SnapshotQuery, SnapshotStore, StoredSnapshot } from '../ports.js';

export interface ExportRequest {
  readonly tenantId?: string;
  readonly history?: boolean;
  /** Inclusive, on `lastUpdateTime`. */
  readonly since?: string;
}

/** The export record: `incident` is the object exactly as the API returned it. */
export function exportLine(s: StoredSnapshot): string {
  return JSON.stringify({
    tenantId: s.tenantId,
    incidentId: s.incidentId,
    lastUpdateTime: s.lastUpdateTime,
    source: s.source,
    snapshotAt: s.snapshotAt,
    incident: s.incident,
  });
}

export async function* exportIncidents(deps: { snapshots: SnapshotStore }, request: ExportRequest): AsyncGenerator<string> {
  if (request.since !== undefined && !isTimestamp(request.since)) {
    throw new ConfigError('--since', `--since must be an ISO-8601 instant with a time zone, e.g. 2026-01-31T00:00:00Z; got ${JSON.stringify(request.since.slice(0, 80))}.`);
  }
  const query: SnapshotQuery = {
    ...(request.tenantId !== undefined ? { tenantId: parseTenantId(request.tenantId, '--tenant') } : {}),
    ...(request.since !== undefined ? { since: request.since } : {}),
  };
  const rows = request.history ? deps.snapshots.history(query) : deps.snapshots.latest(query);
  for await (const row of rows) yield exportLine(row);
}
