import { describe, expect, it } from '@jest/globals';
import { withLookahead } from '../../../shared/usecases/pageLookahead.js';

/** A source whose fetches the test resolves by hand, logging what happens in order. */
function manualSource(pages: number) {
  const log: string[] = [];
  const waiting: (() => void)[] = [];
  const fetch = (n: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      log.push(`fetch ${n} started`);
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        log.push(`fetch ${n} aborted`);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiting.push(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  async function* open(signal: AbortSignal): AsyncGenerator<number> {
    try {
      for (let n = 1; n <= pages; n++) {
        await fetch(n, signal);
        yield n;
      }
    } finally {
      log.push('source closed');
    }
  }
  const release = async () => {
    waiting.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { log, open, release };
}

describe('withLookahead', () => {
  it('fetches the next page while the current one is being consumed, and yields every page in order', async () => {
    const src = manualSource(3);
    const seen: number[] = [];
    const consume = (async () => {
      for await (const page of withLookahead(src.open)) {
        src.log.push(`write ${page} started`);
        seen.push(page);
        // The write of this page "takes" until the test releases the next fetch.
        await new Promise((r) => setImmediate(r));
        src.log.push(`write ${page} done`);
      }
    })();
    for (let i = 0; i < 4; i++) await src.release();
    await consume;

    expect(seen).toEqual([1, 2, 3]);
    // Page 2's fetch starts before page 1's write does.
    expect(src.log.indexOf('fetch 2 started')).toBeLessThan(src.log.indexOf('write 1 started'));
    expect(src.log.indexOf('write 1 done')).toBeLessThan(src.log.indexOf('write 2 started'));
  });

  it('aborts and awaits the fetch in flight when the consumer stops early, then closes the source', async () => {
    const src = manualSource(5);
    const failing = (async () => {
      for await (const page of withLookahead(src.open)) {
        if (page === 1) throw new Error('write failed');
      }
    })();
    const outcome = expect(failing).rejects.toThrow('write failed');
    await src.release();
    await outcome;

    expect(src.log).toEqual(['fetch 1 started', 'fetch 2 started', 'fetch 2 aborted', 'source closed']);
  });

  it("passes the source's own failure to the consumer after the pages before it", async () => {
    async function* open(): AsyncGenerator<number> {
      yield 1;
      throw new Error('HTTP 500');
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const page of withLookahead(open)) seen.push(page);
      })(),
    ).rejects.toThrow('HTTP 500');
    expect(seen).toEqual([1]);
  });

  it("follows the caller's abort signal", async () => {
    const src = manualSource(2);
    const caller = new AbortController();
    const run = (async () => {
      for await (const page of withLookahead(src.open, caller.signal)) void page;
    })();
    const outcome = expect(run).rejects.toThrow('shutdown');
    await new Promise((r) => setImmediate(r));
    caller.abort(new Error('shutdown'));
    await outcome;
    expect(src.log).toContain('fetch 1 aborted');
  });
});
