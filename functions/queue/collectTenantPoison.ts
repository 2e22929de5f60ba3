/** `tenant-collect-poison`: a message the worker failed on every delivery — recorded on the tenant and the run. */
import { app, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { recordDeadLetter } from '../../shared/usecases/deadLetter.js';
import { MAX_DEQUEUE_COUNT } from '../../shared/usecases/queueWorker.js';
import { STORAGE_CONNECTION, TENANT_COLLECT_QUEUE } from './tenantCollectOutput.js';

export async function collectTenantPoison(message: unknown, context: InvocationContext): Promise<void> {
  await invoke(context, async (services) => {
    // The host moved the message here after maxDequeueCount failed deliveries (the poison copy counts afresh).
    await recordDeadLetter(
      { tenants: services.tenants, runs: services.runs, clock: services.clock, logger: services.logger },
      message,
      MAX_DEQUEUE_COUNT,
    );
  });
}

app.storageQueue('collectTenantPoison', {
  queueName: `${TENANT_COLLECT_QUEUE}-poison`,
  connection: STORAGE_CONNECTION,
  handler: collectTenantPoison,
});
