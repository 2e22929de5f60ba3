/**
 * Queue worker on `tenant-collect`: collect one tenant. Completes the message for every recorded outcome; throws
 * (so the platform retries after the visibility timeout) only for a transient failure before the last delivery.
 */
import { app, type InvocationContext } from '@azure/functions';
import { dequeueCountOf, invoke } from '../../shared/host/invoke.js';
import { processCollectMessage } from '../../shared/usecases/queueWorker.js';
import { STORAGE_CONNECTION, TENANT_COLLECT_QUEUE } from './tenantCollectOutput.js';

export async function collectTenant(message: unknown, context: InvocationContext): Promise<void> {
  await invoke(context, async (services) => {
    await processCollectMessage(
      { ...services.collectDeps(), runs: services.runs },
      { body: message, dequeueCount: dequeueCountOf(context), owner: context.invocationId },
    );
  });
}

app.storageQueue('collectTenant', {
  queueName: TENANT_COLLECT_QUEUE,
  connection: STORAGE_CONNECTION,
  handler: collectTenant,
});
