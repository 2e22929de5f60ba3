/** Submitting planned transactions with small bounded concurrency (independent batches only). */
import type { TableClient } from '@azure/data-tables';
import { type BatchOp, planBatches, toTransactionAction } from './batchPlanner.js';
import { runBounded } from './runBounded.js';
import { toTableError } from './tableErrors.js';

export const BATCH_CONCURRENCY = 4;

export type BatchOutcome = { readonly ops: readonly BatchOp[]; readonly error?: unknown };

/** Submit every batch; report each batch's failure instead of stopping at the first. */
export async function submitBatchesSettled(client: TableClient, ops: readonly BatchOp[], concurrency = BATCH_CONCURRENCY): Promise<BatchOutcome[]> {
  return runBounded(planBatches(ops), concurrency, async (batch) => {
    try {
      await client.submitTransaction(batch.map(toTransactionAction));
      return { ops: batch };
    } catch (error) {
      return { ops: batch, error };
    }
  });
}

/** Submit every batch; throw (as CollectorError) the first failure after all have settled. */
export async function submitBatches(client: TableClient, ops: readonly BatchOp[], operation: string, concurrency = BATCH_CONCURRENCY): Promise<void> {
  const outcomes = await submitBatchesSettled(client, ops, concurrency);
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed) throw toTableError(failed.error, operation);
}
