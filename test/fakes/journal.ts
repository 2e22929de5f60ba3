/**
 * What the fakes share: a journal of the durable effects in the order they happened (so a spec can assert
 * "written, then checkpoint"), and injected faults (the next N calls of an operation throw a chosen error).
 */

/** Durable effects in order, e.g. `write <tenant> <n incidents>`, `checkpoint <tenant> <value>`. */
export class Journal {
  readonly entries: string[] = [];

  add(entry: string): void {
    this.entries.push(entry);
  }

  /** Entries starting with `prefix` (e.g. `checkpoint `). */
  matching(prefix: string): string[] {
    return this.entries.filter((e) => e.startsWith(prefix));
  }
}

/** Errors to throw from named operations of a fake: each injected error is thrown once, in order. */
export class Faults {
  private readonly pending = new Map<string, unknown[]>();

  /** The next `times` calls of `operation` (e.g. `writePage`) throw `error`. */
  inject(operation: string, error: unknown, times = 1): void {
    const queue = this.pending.get(operation) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.pending.set(operation, queue);
  }

  /** Called by a fake at the start of `operation`: throws the next injected error, if any. */
  check(operation: string): void {
    const queue = this.pending.get(operation);
    if (!queue || queue.length === 0) return;
    throw queue.shift();
  }
}
