/**
 * Liveness for `GET /api/health` (anonymous): the app answers, and when the last run finished. Nothing about
 * tenants, so the endpoint leaks nothing to an anonymous caller. A storage outage answers 503 (still no detail).
 */
import { ensureError } from '../domain/errors.js';
import type { Logger, RunStore } from '../ports.js';

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly lastRunFinishedAt: string | null;
}

export async function checkHealth(deps: {
  runs: RunStore;
  logger: Logger;
}): Promise<{ httpStatus: number; report: HealthReport }> {
  try {
    const last = await deps.runs.lastFinished();
    return { httpStatus: 200, report: { status: 'ok', lastRunFinishedAt: last?.finishedAt ?? null } };
  } catch (error) {
    deps.logger.error('health.storage_failed', { message: ensureError(error).message });
    return { httpStatus: 503, report: { status: 'unavailable', lastRunFinishedAt: null } };
  }
}
