/** Where the CLI writes: results on stdout, messages on stderr. Injected so tests can capture both. */
export interface Io {
  /** Write to stdout, waiting for drain when the pipe is full (a 50,000-line export must not buffer in memory). */
  out(text: string): void | Promise<void>;
  err(text: string): void;
  /** True when stderr is a terminal (progress lines are shown only then). */
  readonly interactive: boolean;
}

function writeRespectingBackPressure(stream: NodeJS.WritableStream, text: string): void | Promise<void> {
  if (stream.write(text)) return;
  return new Promise<void>((resolve) => stream.once('drain', () => resolve()));
}

/** An Io over two streams; `interactive` is true only when `stderr` is a terminal (`isTTY`). */
export function streamIo(stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream & { isTTY?: boolean }): Io {
  return {
    out: (text) => writeRespectingBackPressure(stdout, text),
    err: (text) => void stderr.write(text),
    interactive: stderr.isTTY === true,
  };
}

export const processIo: Io = streamIo(process.stdout, process.stderr);

/** Least time between two progress lines, in ms. */
export const PROGRESS_INTERVAL_MS = 250;

/**
 * A progress counter on stderr for long commands (design §5: progress in a terminal, never on stdout): nothing at
 * all unless `io.interactive`; otherwise a `\r`-rewritten line at most every PROGRESS_INTERVAL_MS (by `now`, ms)
 * and always the final count when done.
 */
export class Progress {
  private count = 0;
  private shownAt: number | undefined;

  constructor(
    private readonly io: Io,
    /** What is counted, e.g. `snapshots exported`. */
    private readonly label: string,
    private readonly now: () => number,
  ) {}

  /** Count `n` more (default 1); prints when the interval has passed since the last line. */
  add(n = 1): void {
    this.count += n;
    if (!this.io.interactive) return;
    const t = this.now();
    if (this.shownAt !== undefined && t - this.shownAt < PROGRESS_INTERVAL_MS) return;
    this.shownAt = t;
    this.io.err(`\r${this.count} ${this.label}`);
  }

  /** The final count on its line (terminal only). */
  done(): void {
    if (this.io.interactive) this.io.err(`\r${this.count} ${this.label}\n`);
  }
}
