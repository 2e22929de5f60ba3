/** Submitting planned transactions with small bounded concurrency (independent batches only). */
import type { TableClient, TableTransactionResponse } from '@azure/data-tables';
import { mapBounded } from '../../lib/bounded.js';
import { type BatchOp, planBatches, toTransactionAction } from './batchPlanner.js';
import { toTableError } from './tableErrors.js';
import { submitTransactionOps } from './transactionRequest.js';

export const BATCH_CONCURRENCY = 4;

/** A batch and how it went; on success, the new ETag of each operation's row where the answer gave one (by position). */
export type BatchOutcome = {
  readonly ops: readonly BatchOp[];
  readonly error?: unknown;
  readonly etags?: readonly (string | undefined)[];
};

/**
 * Sub-responses come in the order of the operations. The SDK takes RowKey from a Location header (creates only)
 * and the ETag line with its trailing CR, so: position first, RowKey as a cross-check, ETag trimmed.
 */
function etagsOf(ops: readonly BatchOp[], response: TableTransactionResponse): (string | undefined)[] {
  const subs = response.subResponses;
  if (subs.length !== ops.length) return ops.map(() => undefined);
  return ops.map((op, i) => {
    const sub = subs[i];
    if (!sub || sub.status >= 300) return undefined;
    if (sub.rowKey !== undefined && safeDecode(sub.rowKey) !== op.entity.rowKey) return undefined;
    return sub.etag?.trim() || undefined;
  });
}

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/''/g, "'"));
  } catch {
    return undefined;
  }
}

/** Submit every batch; report each batch's failure instead of stopping at the first. */
export async function submitBatchesSettled(
  client: TableClient,
  ops: readonly BatchOp[],
  concurrency = BATCH_CONCURRENCY,
): Promise<BatchOutcome[]> {
  return submitPlannedSettled(client, planBatches(ops), concurrency);
}

/** Submit already planned transactions (see planGroupedBatches); report each batch's outcome, in plan order. */
export async function submitPlannedSettled(
  client: TableClient,
  batches: readonly (readonly BatchOp[])[],
  concurrency = BATCH_CONCURRENCY,
): Promise<BatchOutcome[]> {
  return mapBounded(batches, concurrency, async (batch) => {
    try {
      const response = await submitTransactionOps(client, batch, () =>
        client.submitTransaction(batch.map(toTransactionAction)),
      );
      return { ops: batch, etags: etagsOf(batch, response) };
    } catch (error) {
      return { ops: batch, error };
    }
  });
}

/** Submit every batch; throw (as CollectorError) the first failure after all have settled. */
export async function submitBatches(
  client: TableClient,
  ops: readonly BatchOp[],
  operation: string,
  concurrency = BATCH_CONCURRENCY,
): Promise<void> {
  const outcomes = await submitBatchesSettled(client, ops, concurrency);
  const failed = outcomes.find((o) => o.error !== undefined);
  if (failed) throw toTableError(failed.error, operation);
}
