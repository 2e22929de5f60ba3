import { describe, expect, it } from '@jest/globals';
import {
  BATCH_BODY_BUDGET_BYTES,
  type BatchOp,
  operationSize,
  planBatches,
  planGroupedBatches,
} from '../../../../shared/adapters/tables/batchPlanner.js';

const op = (pk: string, rk: string, bytes = 10): BatchOp => ({
  kind: 'upsert',
  entity: { partitionKey: pk, rowKey: rk, data: new Uint8Array(bytes) },
});

describe('planBatches', () => {
  it('puts at most 100 operations in a batch', () => {
    const batches = planBatches(Array.from({ length: 250 }, (_, i) => op('p', String(i))));
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
  });

  it('never mixes partitions and keeps each partition in input order', () => {
    const ops = Array.from({ length: 30 }, (_, i) => op(i % 3 === 0 ? 'a' : 'b', String(i)));
    const batches = planBatches(ops);
    for (const b of batches) expect(new Set(b.map((o) => o.entity.partitionKey)).size).toBe(1);
    expect(
      batches
        .flat()
        .filter((o) => o.entity.partitionKey === 'b')
        .map((o) => o.entity.rowKey),
    ).toEqual(ops.filter((o) => o.entity.partitionKey === 'b').map((o) => o.entity.rowKey));
  });

  it('stays under the body budget with large entities; a single huge entity goes alone', () => {
    const big = Array.from({ length: 12 }, (_, i) => op('p', String(i), 700_000));
    const batches = planBatches(big);
    for (const b of batches)
      expect(b.reduce((s, o) => s + operationSize(o), 0)).toBeLessThanOrEqual(BATCH_BODY_BUDGET_BYTES);
    expect(batches.flat()).toHaveLength(12);
    expect(planBatches([op('p', 'x', 5_000_000), op('p', 'y')]).map((b) => b.length)).toEqual([1, 1]);
  });

  it('never puts one entity twice in a batch', () => {
    expect(planBatches([op('p', 'x'), op('p', 'x'), op('p', 'y')]).map((b) => b.map((o) => o.entity.rowKey))).toEqual([
      ['x'],
      ['x', 'y'],
    ]);
  });

  it('estimates binary as base64 on the wire', () => {
    expect(operationSize(op('p', 'r', 300_000))).toBeGreaterThan(400_000);
  });
});

describe('planGroupedBatches', () => {
  it('never splits a group across transactions', () => {
    // 99 single rows, then a pair: the pair would straddle the 100th slot, so it starts the next batch whole.
    const groups = [
      ...Array.from({ length: 99 }, (_, i) => [op('p', `r${String(i).padStart(3, '0')}`)]),
      [op('p', 'h1'), op('p', '~ev_1')],
      [op('p', 'h2'), op('p', '~ev_2')],
    ];
    const batches = planGroupedBatches(groups);
    expect(batches.map((b) => b.length)).toEqual([99, 4]);
    expect(batches[1]?.map((o) => o.entity.rowKey)).toEqual(['h1', '~ev_1', 'h2', '~ev_2']);
  });

  it('fills by body size with whole groups', () => {
    const big = Math.floor(BATCH_BODY_BUDGET_BYTES / 3);
    const batches = planGroupedBatches([
      [op('p', 'a', big), op('p', '~a')],
      [op('p', 'b', big), op('p', '~b')],
      [op('p', 'c', big), op('p', '~c')],
    ]);
    expect(batches.map((b) => b.map((o) => o.entity.rowKey))).toEqual([
      ['a', '~a', 'b', '~b'],
      ['c', '~c'],
    ]);
  });

  it('refuses a group that cannot be one transaction', () => {
    expect(() => planGroupedBatches([[op('p', 'a'), op('q', 'b')]])).toThrow(RangeError);
    expect(() => planGroupedBatches([[op('p', 'a'), op('p', 'a')]])).toThrow(RangeError);
  });
});
