/**
 * Truth comparison: the store (latest + history) against the simulator's incidents, per tenant.
 * lost — an incident the API has that the store has no latest row for;
 * stale — a latest row whose content differs from what the API returns now;
 * duplicateHistory — two history rows of one incident with identical content (the same version written twice);
 * historyGaps — a latest row whose version has no history row;
 * versionsWithoutEvent / eventsWithoutVersion / duplicateEvents — from the raw IncidentHistory partition: a history
 * row no event row points to, an event row whose history row is missing, and every event beyond the first for one
 * version (design §9: exactly one event per stored version).
 */
import { TableClient } from '@azure/data-tables';
import { contentHash } from '../../shared/adapters/tables/canonicalJson.js';
import type { SnapshotStore, SourceKind } from '../../shared/ports.js';
import type { DefenderWorld } from '../../devstack/stack.js';

export interface TruthFigures {
  lost: number;
  stale: number;
  duplicateHistory: number;
  historyGaps: number;
  /** Rows of incidents the API does not have for this tenant (another tenant's data, or invented). */
  foreign: number;
  versionsWithoutEvent: number;
  eventsWithoutVersion: number;
  duplicateEvents: number;
}

export const ZERO_TRUTH: Readonly<TruthFigures> = Object.freeze({
  lost: 0,
  stale: 0,
  duplicateHistory: 0,
  historyGaps: 0,
  foreign: 0,
  versionsWithoutEvent: 0,
  eventsWithoutVersion: 0,
  duplicateEvents: 0,
});

export function addFigures(a: TruthFigures, b: TruthFigures): TruthFigures {
  return {
    lost: a.lost + b.lost,
    stale: a.stale + b.stale,
    duplicateHistory: a.duplicateHistory + b.duplicateHistory,
    historyGaps: a.historyGaps + b.historyGaps,
    foreign: a.foreign + b.foreign,
    versionsWithoutEvent: a.versionsWithoutEvent + b.versionsWithoutEvent,
    eventsWithoutVersion: a.eventsWithoutVersion + b.eventsWithoutVersion,
    duplicateEvents: a.duplicateEvents + b.duplicateEvents,
  };
}

function truthOf(world: DefenderWorld, source: SourceKind, tenantId: string): Map<string, Record<string, unknown>> {
  const list = source === 'graph' ? world.graphIncidents(tenantId) : world.legacyIncidents(tenantId);
  return new Map(list.map((i) => [String(source === 'graph' ? i.id : i.incidentId), i]));
}

/**
 * Compare one tenant's store with the API. `source`: the one source it was collected from, or `per-row` after a
 * source switch (issue 14): each row is compared with the truth of its own source (the first stored copy of a
 * version stays, so an unchanged incident keeps the old source's shape); both APIs use the same incident IDs.
 */
export async function compareWithTruth(
  snapshots: SnapshotStore,
  world: DefenderWorld,
  source: SourceKind | 'per-row',
  tenantId: string,
  storageConnectionString: string | undefined,
): Promise<TruthFigures> {
  const truths = {
    graph: truthOf(world, 'graph', tenantId),
    m365d: truthOf(world, 'm365d', tenantId),
  };
  const truth = source === 'per-row' ? truths.graph : truths[source];
  const truthFor = (rowSource: SourceKind) => (source === 'per-row' ? truths[rowSource] : truth);
  const figures: TruthFigures = { ...ZERO_TRUTH };
  const latestHashes = new Map<string, string>();
  for await (const row of snapshots.latest({ tenantId })) {
    const expected = truthFor(row.source).get(row.incidentId);
    if (!expected) {
      figures.foreign++;
      continue;
    }
    latestHashes.set(row.incidentId, row.contentHash);
    if (contentHash(expected) !== contentHash(row.incident) || row.contentHash !== contentHash(row.incident))
      figures.stale++;
  }
  for (const id of truth.keys()) if (!latestHashes.has(id)) figures.lost++;

  const versions = new Set<string>();
  for await (const row of snapshots.history({ tenantId })) {
    if (!truth.has(row.incidentId)) figures.foreign++;
    const version = `${row.incidentId}\u0000${row.contentHash}`;
    if (versions.has(version)) figures.duplicateHistory++;
    versions.add(version);
  }
  for (const [id, hash] of latestHashes) if (!versions.has(`${id}\u0000${hash}`)) figures.historyGaps++;
  return { ...figures, ...(await eventTruth(storageConnectionString, tenantId)) };
}

/**
 * Versions and events of one tenant counted from the raw IncidentHistory partition (keys and the event rows'
 * `historyRowKey` only): event rows are the RowKeys starting `~ev_`, every other row is a version.
 */
export async function eventTruth(
  connectionString: string | undefined,
  tenantId: string,
): Promise<Pick<TruthFigures, 'versionsWithoutEvent' | 'eventsWithoutVersion' | 'duplicateEvents'>> {
  if (connectionString === undefined) throw new Error('eventTruth needs the storage connection string (Azurite).');
  const client = TableClient.fromConnectionString(connectionString, 'IncidentHistory', {
    allowInsecureConnection: true,
  });
  const versions = new Set<string>();
  const events = new Map<string, number>();
  for await (const row of client.listEntities<{ historyRowKey?: unknown }>({
    queryOptions: { filter: `PartitionKey eq '${tenantId.toLowerCase()}'`, select: ['RowKey', 'historyRowKey'] },
  })) {
    const key = String(row.rowKey);
    if (key.startsWith('~ev_')) {
      const target = String(row.historyRowKey);
      events.set(target, (events.get(target) ?? 0) + 1);
    } else versions.add(key);
  }
  let versionsWithoutEvent = 0;
  for (const v of versions) if (!events.has(v)) versionsWithoutEvent++;
  let eventsWithoutVersion = 0;
  let duplicateEvents = 0;
  for (const [target, count] of events) {
    if (!versions.has(target)) eventsWithoutVersion += count;
    else duplicateEvents += count - 1;
  }
  return { versionsWithoutEvent, eventsWithoutVersion, duplicateEvents };
}
