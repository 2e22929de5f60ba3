/**
 * Adaptive time slicing for the legacy incidents API, pure (unit-tested).
 *
 * The API has no nextLink and documents no ordering, and `$skip` paging drifts when incidents change while we
 * page. So instead of `$skip`, the window is cut into time slices processed in ascending order, each asked
 * for with `$top=100`: fewer than 100 answers prove the slice complete; exactly 100 do not, and the slice is
 * split (its answers are still used — re-fetches are idempotent). Slice widths adapt to the density observed
 * so a typical query returns about 65 incidents.
 *
 * Slices are whole milliseconds [startMs, endMs): the service may compare timestamps at millisecond precision,
 * and ms-aligned `ge`/`lt` bounds then still tile the window exactly. Only the window's own ends keep their
 * full 100 ns precision. A slice one millisecond wide that still holds 100 incidents cannot be split; the
 * source then pages that millisecond with `$skip` (see `LegacySlice.paged`).
 */

export interface LegacySlice {
  readonly startMs: number;
  /** Exclusive. */
  readonly endMs: number;
  /** True for the window's first slice (lower bound is the window's `from`, exact). */
  readonly first: boolean;
  /** True for the window's last slice (upper bound is `le` the window's `to`, exact). */
  readonly last: boolean;
  /** One millisecond that held 100 or more incidents: page it with `$skip`. */
  readonly paged: boolean;
}

export interface SlicerOptions {
  /** The API's page size (`$top` maximum): an answer this long does not prove a slice complete. */
  readonly top?: number;
  /** Incidents a slice should return (default 65): below `top` with headroom for error in the estimate. */
  readonly target?: number;
  /** Largest growth factor of the width between two slices (default 8). */
  readonly maxGrowth?: number;
  /** Width of the first slice (default: the whole window — hourly runs usually need one query). */
  readonly initialWidthMs?: number;
}

export class LegacySlicer {
  private readonly windowStartMs: number;
  private readonly windowEndMs: number;
  private readonly top: number;
  private readonly target: number;
  private readonly maxGrowth: number;
  private cursorMs: number;
  private widthMs: number;
  private pagedMs: number | undefined;
  /** Incidents per ms seen in the last overflow, applied after the stretch below it completes. */
  private densityHint: number | undefined;

  /** `fromMs`/`toMs` are the window's ends (inclusive) in epoch ms, sub-ms digits dropped. */
  constructor(fromMs: number, toMs: number, options: SlicerOptions = {}) {
    this.windowStartMs = fromMs;
    this.windowEndMs = toMs + 1;
    this.top = options.top ?? 100;
    this.target = Math.min(options.target ?? 65, this.top - 1);
    this.maxGrowth = options.maxGrowth ?? 8;
    this.cursorMs = fromMs;
    this.widthMs = Math.max(1, options.initialWidthMs ?? this.windowEndMs - fromMs);
  }

  /** The next slice to query, or undefined when the window is done. */
  next(): LegacySlice | undefined {
    if (this.cursorMs >= this.windowEndMs) return undefined;
    const paged = this.pagedMs === this.cursorMs;
    const endMs = paged ? this.cursorMs + 1 : Math.min(this.windowEndMs, this.cursorMs + this.widthMs);
    return {
      startMs: this.cursorMs,
      endMs,
      first: this.cursorMs === this.windowStartMs,
      last: endMs === this.windowEndMs,
      paged,
    };
  }

  /** The slice answered fewer than `top` (or was fully paged): it is complete; widen or narrow by density. */
  complete(slice: LegacySlice, count: number): void {
    const width = slice.endMs - slice.startMs;
    this.cursorMs = slice.endMs;
    this.pagedMs = undefined;
    const scaled = count === 0 ? width * this.maxGrowth : Math.floor((width * this.target) / count);
    // After a gap below an overflow, the density seen in that overflow says more than the gap's own count.
    const hinted =
      this.densityHint === undefined ? scaled : Math.min(scaled, Math.floor(this.target / this.densityHint));
    this.densityHint = undefined;
    this.widthMs = clamp(hinted, 1, Math.max(1, width * this.maxGrowth));
  }

  /**
   * The slice answered `top` incidents (`observedMs` their lastUpdate times): not proven complete. When the
   * answers start above the slice's start, the stretch below them is asked next; otherwise shrink so the next
   * query expects about `target`, judging density by the denser of the whole slice and the span the answers
   * cover. A one-millisecond slice cannot shrink: it will be paged.
   */
  overflow(slice: LegacySlice, observedMs: readonly number[]): void {
    const width = slice.endMs - slice.startMs;
    if (width <= 1) {
      this.pagedMs = slice.startMs;
      return;
    }
    const count = Math.max(observedMs.length, this.top);
    const lowest = observedMs.length > 0 ? Math.min(...observedMs) : slice.startMs;
    // n answers spanning [min, max] are n − 1 gaps: (n − 1) / (max − min) per ms, the observed local density.
    const span = observedMs.length > 1 ? Math.max(...observedMs) - lowest : 0;
    const observed = span > 0 ? (observedMs.length - 1) / span : Infinity;
    const density = Math.max(count / width, observed);
    if (lowest > slice.startMs) {
      // Nothing was seen below `lowest` (e.g. a newest-first answer, or a long quiet stretch before a busy
      // one): ask for that stretch whole first — one query when it is sparse — then size by the density seen.
      this.widthMs = lowest - slice.startMs;
      this.densityHint = density;
      return;
    }
    // density ≥ count / width, so this is at most target/top (65%) of the width: every split makes progress.
    this.widthMs = clamp(Math.floor(this.target / density), 1, width - 1);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
