/**
 * What one collection of one tenant knows about that tenant's stored latest rows (hash, version, ETag), so its
 * pages need not query them again. Built from one keys-and-hashes query over the partition when that query
 * answers in a single response, then kept current with the rows this collection writes. The lease makes this
 * collection the only writer; should anything else write anyway, the ETag conditions on the latest rows fail
 * (409/412) and the affected keys are forgotten and read again.
 */
import type { StoredLatest } from './snapshotRows.js';

/** Rows the index may hold before it gives up (bounded memory: about 300 bytes a row). */
export const MAX_INDEX_ROWS = 20_000;

export type IndexState = 'unloaded' | 'complete' | 'off';

export interface IndexLookup {
  /** Rows the index knows to exist. */
  readonly found: Map<string, StoredLatest>;
  /** Keys the index cannot answer for (forgotten after a conflict): read them from the table. */
  readonly unknown: string[];
}

export class LatestIndex {
  private rows = new Map<string, StoredLatest>();
  private readonly forgotten = new Set<string>();
  private current: IndexState = 'unloaded';

  get state(): IndexState {
    return this.current;
  }

  /** The partition's rows as one complete response returned them; anything incomplete switches the index off. */
  load(rows: ReadonlyMap<string, StoredLatest>, complete: boolean): void {
    if (!complete || rows.size > MAX_INDEX_ROWS) return this.turnOff();
    this.rows = new Map(rows);
    this.current = 'complete';
  }

  turnOff(): void {
    this.rows.clear();
    this.forgotten.clear();
    this.current = 'off';
  }

  /** Only meaningful while complete: a key neither found nor forgotten has no latest row. */
  lookup(keys: Iterable<string>): IndexLookup {
    const found = new Map<string, StoredLatest>();
    const unknown: string[] = [];
    for (const key of new Set(keys)) {
      if (this.forgotten.has(key)) unknown.push(key);
      else {
        const row = this.rows.get(key);
        if (row) found.set(key, row);
      }
    }
    return { found, unknown };
  }

  /** What a read of these keys returned: present ones with their values, the others are absent. */
  learn(keys: Iterable<string>, stored: ReadonlyMap<string, StoredLatest>): void {
    if (this.current !== 'complete') return;
    for (const key of keys) {
      this.forgotten.delete(key);
      const row = stored.get(key);
      if (row) this.rows.set(key, row);
      else this.rows.delete(key);
    }
    this.checkSize();
  }

  /** A latest row this collection has just written (its new ETag from the transaction's answer). */
  written(key: string, row: StoredLatest): void {
    if (this.current !== 'complete') return;
    this.forgotten.delete(key);
    this.rows.set(key, row);
    this.checkSize();
  }

  /** Keys whose stored state is no longer known (a write lost an ETag race, or its answer had no ETag). */
  forget(keys: Iterable<string>): void {
    if (this.current !== 'complete') return;
    for (const key of keys) {
      this.rows.delete(key);
      this.forgotten.add(key);
    }
  }

  private checkSize(): void {
    if (this.rows.size > MAX_INDEX_ROWS) this.turnOff();
  }
}
