/**
 * Timer (daily, 03:30 UTC): the data lifecycle prune — history versions older than HISTORY_RETENTION_DAYS with their
 * event rows (never a latest version, never one with undelivered events) and orphan payload chunks. One failing
 * tenant is logged and the others go on; the function fails only when the prune cannot start or every tenant failed.
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { pruneHistory as prune } from '../../shared/usecases/retention.js';

export async function pruneHistory(timer: Timer, context: InvocationContext): Promise<void> {
  await invoke(context, async (services) => {
    if (timer.isPastDue) services.logger.warn('prune.past_due', { last: timer.scheduleStatus?.last ?? null });
    const report = await prune(services.retentionDeps());
    // Partial failure is reported, not thrown (style: a run fails only when every tenant failed).
    if (report.tenants > 0 && report.failed.length === report.tenants)
      throw new Error(`The prune failed for every tenant (first: ${report.failed[0]?.code ?? 'unknown'}).`);
  });
}

app.timer('pruneHistory', { schedule: '0 30 3 * * *', runOnStartup: false, useMonitor: true, handler: pruneHistory });
