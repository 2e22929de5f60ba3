/**
 * Liveness: the app answers, and when the last run finished. Nothing about tenants, so a host may show it to an
 * anonymous caller. A storage outage reports `unavailable` (still no detail; the cause is logged).
 */
import { ensureError } from '../domain/errors.js';
import type { Logger, RunStore } from '../ports.js';

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly lastRunFinishedAt: string | null;
}

/** The health report; never throws (a storage failure is the `unavailable` report). */
export async function checkHealth(deps: { runs: RunStore; logger: Logger }): Promise<HealthReport> {
  try {
    const last = await deps.runs.lastFinished();
    return { status: 'ok', lastRunFinishedAt: last?.finishedAt ?? null };
  } catch (error) {
    deps.logger.error('health.storage_failed', { message: ensureError(error).message });
    return { status: 'unavailable', lastRunFinishedAt: null };
  }
}
