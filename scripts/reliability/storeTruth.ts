/**
 * Truth comparison: the store (latest + history) against the simulator's incidents, per tenant.
 * lost — an incident the API has that the store has no latest row for;
 * stale — a latest row whose content differs from what the API returns now;
 * duplicateHistory — two history rows of one incident with identical content (the same version written twice);
 * historyGaps — a latest row whose version has no history row.
 */
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
}

export const ZERO_TRUTH: Readonly<TruthFigures> = Object.freeze({
  lost: 0,
  stale: 0,
  duplicateHistory: 0,
  historyGaps: 0,
  foreign: 0,
});

export function addFigures(a: TruthFigures, b: TruthFigures): TruthFigures {
  return {
    lost: a.lost + b.lost,
    stale: a.stale + b.stale,
    duplicateHistory: a.duplicateHistory + b.duplicateHistory,
    historyGaps: a.historyGaps + b.historyGaps,
    foreign: a.foreign + b.foreign,
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
  return figures;
}
