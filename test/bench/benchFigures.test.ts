import { describe, expect, it } from '@jest/globals';
import { fleetLowerBoundMs } from '../../scripts/bench/lowerBound.js';
import { quotaUse } from '../../scripts/bench/quotaUse.js';
import { median } from '../../scripts/bench/workloads/coldStart.js';

describe('fleetLowerBoundMs', () => {
  it('spreads token + pages × latency over the concurrency', () => {
    // 4 tenants × (30 + 4 × 50) = 920 ms of lane work over 2 lanes.
    expect(fleetLowerBoundMs({ pagesPerTenant: [4, 4, 4, 4], concurrency: 2, apiMs: 50, tokenMs: 30 })).toBe(460);
  });

  it('is never below the longest single tenant, and uses no more lanes than tenants', () => {
    expect(fleetLowerBoundMs({ pagesPerTenant: [20, 1, 1], concurrency: 16, apiMs: 50, tokenMs: 30 })).toBe(1030);
    expect(fleetLowerBoundMs({ pagesPerTenant: [2, 2], concurrency: 16, apiMs: 50, tokenMs: 0 })).toBe(100);
  });
});

describe('quotaUse', () => {
  const calls = (times: number[], status = 200) => times.map((at) => ({ at, status }));

  it('averages the calls of complete windows only', () => {
    // 9 calls per 1,000 ms window for three windows, then a partial window of 2.
    const times = [0, 1, 2]
      .flatMap((w) => Array.from({ length: 9 }, (_, i) => w * 1000 + i * 100))
      .concat([3000, 3100]);
    const use = quotaUse(calls(times), 10, 1000);
    expect(use.fullWindows).toBe(3);
    expect(use.fractionOfQuota).toBeCloseTo(0.9);
    expect(use.peakFraction).toBeCloseTo(0.9);
  });

  it('counts 429s and the ones after the first', () => {
    const use = quotaUse([...calls([0, 10, 20]), ...calls([30, 40], 429)], 50, 60_000);
    expect(use.throttled).toBe(2);
    expect(use.throttledAfterFirst).toBe(1);
    expect(use.fractionOfQuota).toBeUndefined();
  });

  it('finds the busiest window anywhere, not only at window starts', () => {
    const use = quotaUse(calls([0, 900, 950, 1000, 1050, 1950]), 4, 1000);
    expect(use.peakFraction).toBe(1);
  });
});

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
