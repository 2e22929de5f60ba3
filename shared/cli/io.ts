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

export const processIo: Io = {
  out: (text) => writeRespectingBackPressure(process.stdout, text),
  err: (text) => void process.stderr.write(text),
  interactive: process.stderr.isTTY === true,
};
