/**
 * The sync window (design §6.3): from `checkpoint − overlap` (or the first-run lookback, or `--since`) to
 * `now − lag`, both inclusive, as fixed-width instants. Incidents surface late, so the lag keeps the window's end
 * behind now and the overlap re-reads the edge; re-reads are harmless because history rows are keyed by version.
 */
import type { SyncWindow } from '../ports.js';
import { dateToFixedWidth, shiftFixedWidth, toFixedWidth } from './time.js';

export interface WindowInput {
  /** The tenant's checkpoint (an API `lastUpdate…` string), if any. */
  readonly checkpoint?: string;
  /** One-off backfill start (`collect --since`); wins over the checkpoint for this run only. */
  readonly since?: string;
  readonly now: Date;
  readonly overlapSeconds: number;
  readonly lagSeconds: number;
  readonly initialLookbackDays: number;
}

/** The window to collect, or undefined when it is empty (start after end: nothing can be due yet). */
export function computeWindow(input: WindowInput): SyncWindow | undefined {
  const to = dateToFixedWidth(new Date(input.now.getTime() - input.lagSeconds * 1000));
  let from: string;
  if (input.since !== undefined) {
    from = toFixedWidth(input.since);
  } else if (input.checkpoint !== undefined && input.checkpoint !== '') {
    from = shiftFixedWidth(input.checkpoint, -input.overlapSeconds * 1000);
  } else {
    from = dateToFixedWidth(new Date(input.now.getTime() - input.initialLookbackDays * 86_400_000));
  }
  return from <= to ? { from, to } : undefined;
}
