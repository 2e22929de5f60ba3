/**
 * `incidents export` (design §5): NDJSON, one line per stored snapshot — the latest by default, every version
 * with `history` — streamed from the store, never accumulated.
 */
import { parseTenantId } from '../domain/tenantId.js';
import { requireTimestamp } from '../domain/time.js';
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

export async function* exportIncidents(
  deps: { snapshots: SnapshotStore },
  request: ExportRequest,
): AsyncGenerator<string> {
  if (request.since !== undefined) requireTimestamp(request.since, '--since');
  const query: SnapshotQuery = {
    ...(request.tenantId !== undefined ? { tenantId: parseTenantId(request.tenantId, '--tenant') } : {}),
    ...(request.since !== undefined ? { since: request.since } : {}),
  };
  const rows = request.history ? deps.snapshots.history(query) : deps.snapshots.latest(query);
  for await (const row of rows) yield exportLine(row);
}
