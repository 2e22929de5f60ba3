/** Timer (`%COLLECT_SCHEDULE%`, hourly by default): plan the run and enqueue one message per due tenant. */
import { app, type InvocationContext, type Timer } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { planQueuedRun } from '../../shared/usecases/queueWorker.js';
import { tenantCollectOutput } from '../queue/tenantCollectOutput.js';

export async function collectSchedule(timer: Timer, context: InvocationContext): Promise<void> {
  await invoke(context, async (services) => {
    // A past-due tick (the app was down or scaled to zero) still plans once; the checkpoint makes it catch up.
    if (timer.isPastDue) services.logger.warn('schedule.past_due', { last: timer.scheduleStatus?.last ?? null });
    const plan = await planQueuedRun(services.planDeps(), 'schedule');
    context.extraOutputs.set(tenantCollectOutput, plan.messages);
  });
}

app.timer('collectSchedule', {
  schedule: '%COLLECT_SCHEDULE%',
  runOnStartup: false,
  useMonitor: true,
  extraOutputs: [tenantCollectOutput],
  handler: collectSchedule,
});
