/**
 * The `tenant-collect` queue as an output binding, shared by the timer (one message per due tenant) and the admin
 * API's manual collect, so both feed the same worker. `AzureWebJobsStorage` is the host's own storage
 * connection (identity-based in Azure: AzureWebJobsStorage__accountName / __credential / __clientId).
 */
import { output } from '@azure/functions';

export const TENANT_COLLECT_QUEUE = 'tenant-collect';
export const STORAGE_CONNECTION = 'AzureWebJobsStorage';

export const tenantCollectOutput = output.storageQueue({
  queueName: TENANT_COLLECT_QUEUE,
  connection: STORAGE_CONNECTION,
});
