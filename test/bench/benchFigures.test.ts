import { describe, expect, it } from '@jest/globals';
import { fleetLowerBoundMs } from '../../scripts/bench/lowerBound.js';
import { quotaUse } from '../../scripts/bench/quotaUse.js';
import { median } from '../../scripts/bench/workloads/coldStart.js';
import { HOURS_PER_MONTH, monthlyCost, PRICES, totalUsd } from '../../scripts/bench/costModel.js';
import { graphPageTexts, measureCpuFloor } from '../../scripts/bench/cpuFloor.js';
import { deployedSettings, parseDeployedSettings } from '../../scripts/bench/deployedSettings.js';
import { hourlyLowerBoundMs, hourlyTenantFloorMs } from '../../scripts/bench/workloads/hourly.js';
import { writeFloorPerThousand } from '../../scripts/bench/workloads/quota.js';

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

describe('hourly lower bound', () => {
  const latency = { apiMs: 200, tokenMs: 100, tableMs: 8 };

  it('counts a token, the pages, one transaction per table a change touches and one checkpoint write', () => {
    // No change: token + 1 page + the checkpoint.
    expect(hourlyTenantFloorMs(1, 0, latency)).toBe(100 + 200 + 8);
    // 5 changes: 10 history + event operations (one transaction) and 5 latest rows (one transaction).
    expect(hourlyTenantFloorMs(1, 5, latency)).toBe(100 + 200 + 3 * 8);
    // 60 changes: 120 history + event operations need two transactions.
    expect(hourlyTenantFloorMs(2, 60, latency)).toBe(100 + 400 + 4 * 8);
  });

  it('spreads the tenants over the concurrency, never below the longest tenant', () => {
    expect(hourlyLowerBoundMs([300, 300, 300, 300], 2)).toBe(600);
    expect(hourlyLowerBoundMs([1000, 10, 10], 32)).toBe(1000);
    expect(hourlyLowerBoundMs([], 32)).toBe(0);
  });
});

describe('write floor', () => {
  it('is 30 transactions per 1,000 versions: history + event rows, and latest rows, 100 per transaction', () => {
    expect(writeFloorPerThousand()).toBe(30);
    expect(writeFloorPerThousand({ history: 1, latest: 1 })).toBe(20);
  });
});

describe('monthly cost model', () => {
  const input = {
    tenants: 1_000,
    wallMs: 20_000,
    instanceMemoryMB: 2048,
    tableRoundTrips: 10_000,
    versionsWritten: 2_500,
    meanCompressedBytes: 3_000,
    meanIncidentBytes: 9_000,
  };

  it('prices every measured count per 1,000 tenants and 730 hourly runs, with a dated, sourced price table', () => {
    const lines = monthlyCost(input, false);
    const line = (item: string) => lines.find((l) => l.item.startsWith(item));
    expect(line('Functions executions')?.quantity).toBe(1_001 * HOURS_PER_MONTH);
    expect(line('Functions GB-seconds')?.quantity).toBeCloseTo(20 * 2 * HOURS_PER_MONTH, 6);
    expect(line('Functions GB-seconds')?.usd).toBeCloseTo(20 * 2 * HOURS_PER_MONTH * PRICES.functionsGbSecond.usd, 6);
    expect(line('Table transactions')?.usd).toBeCloseTo(((10_000 * HOURS_PER_MONTH) / 1e4) * 0.00036, 6);
    expect(line('Logs Ingestion')).toBeUndefined();
    expect(PRICES.asOf).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const [key, entry] of Object.entries(PRICES)) {
      if (key === 'asOf') continue;
      expect((entry as { source: string }).source).toMatch(/^https:\/\//);
    }
  });

  it('scales a smaller measured run to 1,000 tenants and adds the Logs Ingestion sink only when on', () => {
    const half = monthlyCost({ ...input, tenants: 500, tableRoundTrips: 5_000, versionsWritten: 1_250 }, true);
    const full = monthlyCost(input, true);
    const usd = (lines: typeof full, item: string) => lines.find((l) => l.item.startsWith(item))?.usd ?? NaN;
    expect(usd(half, 'Table transactions')).toBeCloseTo(usd(full, 'Table transactions'), 6);
    expect(usd(half, 'Logs Ingestion')).toBeCloseTo(usd(full, 'Logs Ingestion'), 6);
    expect(totalUsd(full)).toBeGreaterThan(totalUsd(monthlyCost(input, false)));
  });
});

describe('deployed settings', () => {
  it("reads the worker's Node flags and the instance memory from the Bicep text", () => {
    const app = "var x = 1\nvar nodeArguments = '--max-old-space-size=128 --max-semi-space-size=8'\n";
    expect(parseDeployedSettings(app, 'param instanceMemoryMB int = 2048\n')).toEqual({
      nodeArguments: ['--max-old-space-size=128', '--max-semi-space-size=8'],
      instanceMemoryMB: 2048,
    });
  });

  it('names the line it could not find', () => {
    expect(() => parseDeployedSettings('', 'param instanceMemoryMB int = 2048')).toThrow(/var nodeArguments/);
    expect(() => parseDeployedSettings("var nodeArguments = ''", '')).toThrow(/param instanceMemoryMB/);
  });

  it('matches the Bicep files of this repository', () => {
    const deployed = deployedSettings();
    expect(deployed.nodeArguments.some((a) => /^--max-old-space-size=\d+$/.test(a))).toBe(true);
    expect([512, 2048, 4096]).toContain(deployed.instanceMemoryMB);
  });
});

describe('CPU floor', () => {
  it('renders the same incidents as Graph pages and measures a positive cost per incident', () => {
    const specs = [{ tenantId: '00000000-0000-4000-8000-0000000000aa', incidents: 60 }];
    const texts = graphPageTexts(specs, 1, 50);
    expect(texts).toHaveLength(2);
    const first = JSON.parse(texts[0] as string) as { value: unknown[]; '@odata.nextLink'?: string };
    expect(first.value).toHaveLength(50);
    expect(first['@odata.nextLink']).toBeDefined();
    expect((JSON.parse(texts[1] as string) as { value: unknown[] }).value).toHaveLength(10);
    const floor = measureCpuFloor({ specs, passes: 1 });
    expect(floor.incidents).toBe(60);
    expect(floor.msPerIncident).toBeGreaterThan(0);
    expect(floor.meanCompressedBytes).toBeLessThan(floor.meanIncidentBytes);
  });
});
