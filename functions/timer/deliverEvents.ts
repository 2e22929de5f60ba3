/**
 * Timer (every minute): one delivery pass (design §9), so a new event reaches a healthy receiver within about two
 * minutes of being written; retries follow DELIVERY_RETRY_SCHEDULE. Several instances may run it at once: each
 * (subscription, tenant) pair is worked by its lease holder only. A pass reads only the event logs of tenants whose
 * delivery hint shows something new; every 15 minutes (per process) a full pass reads them all (usecases/deliver.ts).
 */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { deliverPass, FullPassSchedule } from '../../shared/usecases/deliver.js';

/** A pass stops starting sends after 4 minutes (well inside the Functions timeout); the next tick goes on. */
export const PASS_BUDGET_MS = 4 * 60_000;
/** This process's full passes: the first pass here, then one every FULL_PASS_INTERVAL_MS. */
const fullPasses = new FullPassSchedule();

export async function deliverEvents(_timer: Timer, context: InvocationContext): Promise<void> {
  await invoke(context, async (services) => {
    const report = await deliverPass({ ...services.deliverDeps(), budgetMs: PASS_BUDGET_MS, fullPasses });
    services.logger.info('delivery.pass', {
      delivered: report.delivered,
      failed: report.failed,
      deadLettered: report.deadLettered,
      pending: report.pending,
      blocked: report.blocked.length,
    });
  });
}

app.timer('deliverEvents', {
  schedule: '0 * * * * *',
  runOnStartup: false,
  useMonitor: false,
  handler: deliverEvents,
});
