/**
 * One-page lookahead for a tenant's incident pages: page n+1 is already being fetched while page n is written,
 * so a tenant's time is about max(fetch, write) per page instead of their sum. Only the fetch runs ahead — the
 * caller still writes pages one at a time, in order, and advances the checkpoint after each page's own write.
 * When the caller stops early (a write failed, the lease was lost), the fetch in flight is aborted and awaited,
 * and the source is closed: nothing keeps running after the tenant's collection has returned.
 */
import { CollectorError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';

export async function* withLookahead<T>(
  open: (signal: AbortSignal) => AsyncIterable<T>,
  signal?: AbortSignal,
): AsyncGenerator<T> {
  const stop = new AbortController();
  const iterator = open(signal ? AbortSignal.any([signal, stop.signal]) : stop.signal)[Symbol.asyncIterator]();
  let pending = iterator.next();
  let finished = false;
  try {
    for (;;) {
      const result = await pending;
      if (result.done) {
        finished = true;
        return;
      }
      pending = iterator.next();
      // Observed in `finally` or on the next turn; until then a rejection must not count as unhandled.
      pending.catch(() => undefined);
      yield result.value;
    }
  } finally {
    if (!finished) {
      stop.abort(
        new CollectorError('Page lookahead stopped: the collection of this tenant ended early.', {
          code: ErrorCode.ABORTED,
          kind: 'transient',
        }),
      );
      await pending.then(
        () => undefined,
        () => undefined,
      );
      await iterator.return?.(undefined)?.catch(() => undefined);
    }
  }
}
