/**
 * Packing entity operations into entity-group transactions within Azure's limits: at most 100 operations, one
 * PartitionKey, each entity at most once, and a request body under 4 MiB. The body size is estimated from the
 * serialized entity plus a generous per-operation allowance for the multipart headers and the URL.
 */
import type { TransactionAction } from '@azure/data-tables';
import { type PlainEntity, wireEntitySize } from './entitySize.js';

export const MAX_BATCH_OPERATIONS = 100;
export const MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024;
/** What batches are planned against: the 4 MiB limit less a margin for estimation error. */
export const BATCH_BODY_BUDGET_BYTES = MAX_BATCH_BODY_BYTES - 256 * 1024;
/** Multipart boundary, part headers, request line and HTTP headers of one operation (~360–430 bytes observed). */
const OPERATION_OVERHEAD_BYTES = 1024;

export type BatchOp =
  | { readonly kind: 'create' | 'upsert'; readonly entity: PlainEntity }
  | { readonly kind: 'update'; readonly entity: PlainEntity; readonly etag: string }
  | { readonly kind: 'delete'; readonly entity: Pick<PlainEntity, 'partitionKey' | 'rowKey'> };

/** Estimated bytes one operation adds to a transaction body. */
export function operationSize(op: BatchOp): number {
  // Keys appear percent-encoded in the request URL (up to 3 bytes per UTF-8 byte).
  const keyBytes = 3 * Buffer.byteLength(op.entity.partitionKey + op.entity.rowKey, 'utf8');
  const body = op.kind === 'delete' ? 0 : wireEntitySize(op.entity);
  return OPERATION_OVERHEAD_BYTES + keyBytes + body;
}

export interface BatchLimits {
  readonly maxOperations: number;
  readonly maxBodyBytes: number;
}

const DEFAULT_LIMITS: BatchLimits = { maxOperations: MAX_BATCH_OPERATIONS, maxBodyBytes: BATCH_BODY_BUDGET_BYTES };

/** Group by partition (first-seen order), then fill batches greedily in input order. */
export function planBatches(ops: readonly BatchOp[], limits: BatchLimits = DEFAULT_LIMITS): BatchOp[][] {
  return planGroupedBatches(
    ops.map((op) => [op]),
    limits,
  );
}

/**
 * Like planBatches, for operations that must commit together: each group (e.g. a version's history row and its
 * event row) lands whole in one transaction, never split across two. Groups are taken by partition (first-seen
 * order of their first operation), then greedily in input order. Throws RangeError for a group that cannot be one
 * transaction (more than one partition, more operations than the limit, or a RowKey twice).
 */
export function planGroupedBatches(
  groups: readonly (readonly BatchOp[])[],
  limits: BatchLimits = DEFAULT_LIMITS,
): BatchOp[][] {
  const byPartition = new Map<string, (readonly BatchOp[])[]>();
  for (const group of groups) {
    const first = group[0];
    if (first === undefined) continue;
    const pk = first.entity.partitionKey;
    const keys = new Set(group.map((op) => op.entity.rowKey));
    if (group.some((op) => op.entity.partitionKey !== pk) || keys.size !== group.length)
      throw new RangeError('A transaction group must hold distinct rows of one partition.');
    if (group.length > limits.maxOperations) throw new RangeError('A transaction group exceeds the operation limit.');
    const list = byPartition.get(pk);
    if (list) list.push(group);
    else byPartition.set(pk, [group]);
  }
  const batches: BatchOp[][] = [];
  for (const partitionGroups of byPartition.values()) {
    let current: BatchOp[] = [];
    let size = 0;
    let keys = new Set<string>();
    for (const group of partitionGroups) {
      const groupSize = group.reduce((n, op) => n + operationSize(op), 0);
      const full =
        current.length + group.length > limits.maxOperations ||
        size + groupSize > limits.maxBodyBytes ||
        group.some((op) => keys.has(op.entity.rowKey));
      if (full && current.length > 0) {
        batches.push(current);
        current = [];
        size = 0;
        keys = new Set();
      }
      current.push(...group);
      size += groupSize;
      for (const op of group) keys.add(op.entity.rowKey);
    }
    if (current.length > 0) batches.push(current);
  }
  return batches;
}

export function toTransactionAction(op: BatchOp): TransactionAction {
  switch (op.kind) {
    case 'create':
      return ['create', op.entity];
    case 'upsert':
      return ['upsert', op.entity, 'Replace'];
    case 'update':
      return ['update', op.entity, 'Replace', { etag: op.etag }];
    case 'delete':
      return ['delete', { partitionKey: op.entity.partitionKey, rowKey: op.entity.rowKey }];
  }
}
