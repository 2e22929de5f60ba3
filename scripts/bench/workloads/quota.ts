/**
 * Quota: one tenant backfilling many incidents under its source's per-tenant quota, time-scaled (the simulator
 * divides its windows by the time scale and the collector's limiter is given the same scaled windows, so a
 * 50-per-minute quota runs in seconds). Figures from the simulator's own request log: calls per complete quota window ÷ quota, and the 429s
 * it answered. The same run counts the collector's Table round trips per 1,000 incidents written.
 */
import { SOURCE_QUOTAS } from '../../../shared/adapters/rateLimiter.js';
import { MAX_BATCH_OPERATIONS } from '../../../shared/adapters/tables/batchPlanner.js';
import type { SourceKind } from '../../../shared/ports.js';
import { startBenchStack } from '../benchStack.js';
import type { ChildScript } from '../childScript.js';
import { runCollectorProcess } from '../collectorProcess.js';
import { quotaUse } from '../quotaUse.js';
import { ratio, seconds, type FigureRow } from '../report.js';
import { summarize, type WorkloadResult } from './fleet.js';

export interface QuotaConfig {
  readonly source: SourceKind;
  readonly incidents: number;
  readonly timeScale: number;
  readonly apiMs: number;
  readonly tokenMs: number;
}

const SOURCE_NAMES: Record<SourceKind, string> = { graph: 'Graph', m365d: 'legacy API' };

/**
 * The write floor per 1,000 versions (issue 15 goal 6): each version is a history row and its event row (one
 * partition of IncidentHistory, created in one transaction) and a latest row (Incidents), at most 100 operations
 * per transaction, one table per transaction: 2,000 / 100 + 1,000 / 100 = 30 transactions.
 */
export function writeFloorPerThousand(
  opsPerVersion: { readonly history: number; readonly latest: number } = { history: 2, latest: 1 },
): number {
  return (
    Math.ceil((1_000 * opsPerVersion.history) / MAX_BATCH_OPERATIONS) +
    Math.ceil((1_000 * opsPerVersion.latest) / MAX_BATCH_OPERATIONS)
  );
}

export async function quotaWorkload(config: QuotaConfig, child: ChildScript): Promise<WorkloadResult> {
  const bench = await startBenchStack({
    tenants: 1,
    incidentsPerTenant: config.incidents,
    latency: { apiMs: config.apiMs, tokenMs: config.tokenMs },
    timeScale: config.timeScale,
    seed: 7,
  });
  try {
    const run = await runCollectorProcess(
      child.path,
      bench.collectorEnv(config.source),
      { timeScale: config.timeScale },
      bench.azuritePid,
    );
    if (run.failed.length > 0 || run.incidentsFetched < config.incidents) {
      throw new Error(
        `The ${config.source} quota run did not collect everything: ${run.incidentsFetched}/${config.incidents}; ${run.failed.join('; ')}`,
      );
    }
    const tenantId = bench.tenantIds[0] as string;
    const sim = config.source === 'graph' ? bench.stack.graph : bench.stack.legacy;
    const calls = sim.requests.filter((r) => r.tenantId === tenantId);
    const minute = SOURCE_QUOTAS[config.source][0];
    const windowMs = minute.windowMs / config.timeScale;
    const use = quotaUse(calls, minute.limit, windowMs);
    const perThousand = (run.tableRoundTrips / run.incidentsChanged) * 1000;
    const floor = writeFloorPerThousand();
    const name = `Quota ${SOURCE_NAMES[config.source]}`;
    const quotaText = `${minute.limit}/min, ×${config.timeScale} time scale`;
    const rows: FigureRow[] = [
      {
        workload: name,
        figure: `calls per quota window ÷ quota (${config.incidents} incidents, ${quotaText})`,
        value: use.fractionOfQuota === undefined ? 'n/a' : ratio(use.fractionOfQuota),
        ...(use.fractionOfQuota !== undefined ? { raw: use.fractionOfQuota } : {}),
        goal: '≥ 0.90',
        met: (use.fractionOfQuota ?? 0) >= 0.9,
      },
      {
        workload: name,
        figure: `429s answered (of ${use.calls} calls; peak window ${ratio(use.peakFraction)} of quota)`,
        value: String(use.throttled),
        raw: use.throttled,
        goal: '≤ 1, no storm',
        met: use.throttled <= 1,
      },
      {
        workload: `Writes (${SOURCE_NAMES[config.source]} pages)`,
        figure: `Table round trips per 1,000 incident versions (${run.incidentsChanged} written; floor ${floor.toFixed(0)}: history + event rows and latest rows, 100 per transaction)`,
        value: `${perThousand.toFixed(1)} (${ratio(perThousand / floor)} × floor)`,
        raw: perThousand,
        goal: `≤ 1.25 × floor = ${(1.25 * floor).toFixed(1)}`,
        met: perThousand <= 1.25 * floor,
      },
    ];
    return { rows, details: { config, wall: seconds(run.wallMs), quota: use, windowMs, run: summarize(run) } };
  } finally {
    await bench.stop();
  }
}
