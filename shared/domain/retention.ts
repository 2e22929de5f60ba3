/**
 * History retention, the pure part (design §3 `HISTORY_RETENTION_DAYS`): which old versions of one incident go.
 *
 * A version older than the cutoff is removed with its event row unless it is
 * - the latest: the version the `Incidents` row points at, or a newer one (a crash between the history write and
 *   the latest write); with no latest row, the incident's newest version;
 * - undelivered: its event is still owed to a subscription (after a cursor, pending, or dead-lettered);
 * - recent: the service stamped the row within the grace period (a concurrent writer's row whose event row may
 *   not have been read);
 * - previous: the version just before a kept version that has an `incident.updated` event (or before any newer
 *   version not seen here). Delivery rebuilds an update's `changedFields`/`previous` from the version before it, so
 *   keeping that one keeps the body of every remaining event as it was first sent. Its own event row goes (nothing
 *   could rebuild that event's body any more), so this never cascades: at most one such version per incident.
 */
import type { IncidentEventType, PruneKept } from '../ports.js';

/** One old version of an incident (lastUpdate before the cutoff), as the prune sees it. */
export interface OldVersion {
  /** History RowKey. */
  readonly key: string;
  /** Fixed-width lastUpdate instant (sorts in time order). */
  readonly lastUpdateKey: string;
  /** Its event row, when it has one. */
  readonly event?: { readonly sequence: number; readonly rowKey: string; readonly type: IncidentEventType };
  /** Whether the service stamped the row within the grace period. */
  readonly recent: boolean;
}

/** What happens to one old version. */
export interface VersionDecision {
  readonly version: OldVersion;
  /** Remove the history row (its event row too, when it has one). */
  readonly removeVersion: boolean;
  /** Remove the event row only (the version is kept as `previous`). */
  readonly removeEventOnly: boolean;
  /** Why it is kept (undefined when removed). */
  readonly kept?: keyof PruneKept;
}

export interface IncidentFacts {
  /** Fixed-width lastUpdate of the incident's latest row; undefined when it has none. */
  readonly latestKey?: string;
  /** Whether the incident has a version newer than every old one (a version at or after the cutoff). */
  readonly newerExists: boolean;
  /** Whether the event with this sequence is still owed to a subscription. */
  readonly owed: (sequence: number) => boolean;
}

/**
 * Decide each old version of one incident (`olds` in ascending lastUpdate order, all before the cutoff). Pure:
 * reads nothing, writes nothing.
 */
export function decideOldVersions(olds: readonly OldVersion[], facts: IncidentFacts): VersionDecision[] {
  const out: VersionDecision[] = new Array<VersionDecision>(olds.length);
  // Walking from the newest: does the version after this one need this one as its `previous`?
  let successorNeedsPrevious = facts.newerExists;
  for (let i = olds.length - 1; i >= 0; i--) {
    const v = olds[i] as OldVersion;
    const isLatest =
      facts.latestKey !== undefined ? v.lastUpdateKey >= facts.latestKey : !facts.newerExists && i === olds.length - 1;
    const reason: keyof PruneKept | undefined = isLatest
      ? 'latest'
      : v.event !== undefined && facts.owed(v.event.sequence)
        ? 'undelivered'
        : v.recent
          ? 'recent'
          : undefined;
    if (reason !== undefined) {
      out[i] = { version: v, removeVersion: false, removeEventOnly: false, kept: reason };
      successorNeedsPrevious = v.event?.type === 'incident.updated';
    } else if (successorNeedsPrevious) {
      out[i] = { version: v, removeVersion: false, removeEventOnly: v.event !== undefined, kept: 'previous' };
      successorNeedsPrevious = false;
    } else {
      out[i] = { version: v, removeVersion: true, removeEventOnly: false };
      successorNeedsPrevious = false;
    }
  }
  return out;
}

/** Whether an event sequence is owed under `undelivered` (above `after`, or listed). */
export function isOwed(undelivered: { readonly after?: number; readonly sequences: ReadonlySet<number> }) {
  return (sequence: number): boolean =>
    (undelivered.after !== undefined && sequence > undelivered.after) || undelivered.sequences.has(sequence);
}
