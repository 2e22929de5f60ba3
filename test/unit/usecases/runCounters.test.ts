import { describe, expect, it } from '@jest/globals';
import type { TenantRunResult } from '../../../shared/ports.js';
import { RunCounterBuffer } from '../../../shared/usecases/runCounters.js';

const ok = (tenantId: string): TenantRunResult => ({
  tenantId,
  status: 'ok',
  incidentsFetched: 1,
  incidentsChanged: 1,
  pages: 1,
});

/** A recordTenants whose writes finish only when the test releases them, in order. */
function gatedRuns() {
  const writes: { ids: string[]; release: () => void; fail: (error: Error) => void }[] = [];
  return {
    writes,
    recordTenants: (_runId: string, _startedAt: string, results: readonly TenantRunResult[]) =>
      new Promise<void>((resolve, reject) => {
        writes.push({ ids: results.map((r) => r.tenantId), release: resolve, fail: reject });
      }),
  };
}

describe('RunCounterBuffer', () => {
  it('keeps one write in flight and puts every result that arrives meanwhile into the next one', async () => {
    const runs = gatedRuns();
    const buffer = new RunCounterBuffer(runs, 'run-1', '2026-11-30T00:00:00.000Z');
    buffer.add(ok('a'));
    buffer.add(ok('b'));
    buffer.add(ok('c'));
    expect(runs.writes.map((w) => w.ids)).toEqual([['a']]);
    runs.writes[0]?.release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs.writes.map((w) => w.ids)).toEqual([['a'], ['b', 'c']]);
    const drained = buffer.drain();
    runs.writes[1]?.release();
    await drained;
    expect(runs.writes).toHaveLength(2);
  });

  it('drain waits for what is queued and rethrows the first failure, writing nothing after it', async () => {
    const runs = gatedRuns();
    const buffer = new RunCounterBuffer(runs, 'run-1', '2026-11-30T00:00:00.000Z');
    buffer.add(ok('a'));
    buffer.add(ok('b'));
    const drained = buffer.drain();
    runs.writes[0]?.fail(new Error('storage down'));
    await expect(drained).rejects.toThrow('storage down');
    expect(runs.writes.map((w) => w.ids)).toEqual([['a']]);
  });

  it('drains at once when nothing was added', async () => {
    const runs = gatedRuns();
    await new RunCounterBuffer(runs, 'run-1', '2026-11-30T00:00:00.000Z').drain();
    expect(runs.writes).toEqual([]);
  });
});
