import { describe, expect, it } from '@jest/globals';
import {
  comparisonCount,
  lookupFilter,
  MAX_FILTER_COMPARISONS,
  planKeyLookups,
} from '../../../../shared/adapters/tables/keyLookupPlan.js';

const tenant = 'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c';

describe('planKeyLookups', () => {
  it('uses one exact query for up to 14 keys', () => {
    const plan = planKeyLookups(['3', '1', '2', '1']);
    expect(plan).toEqual([{ kind: 'keys', keys: ['1', '2', '3'] }]);
  });

  it('uses one range query for clustered equal-length decimal IDs', () => {
    const ids = Array.from({ length: 100 }, (_, i) => String(2_972_000 + i * 3));
    expect(planKeyLookups(ids)).toEqual([{ kind: 'range', from: '2972000', to: '2972297' }]);
  });

  it('falls back to chunked exact queries when the range is wide or IDs differ in length', () => {
    const wide = Array.from({ length: 50 }, (_, i) => String(1_000_000 + i * 7919));
    const mixed = Array.from({ length: 20 }, (_, i) => String(95 + i)); // 95…114: lengths 2 and 3
    for (const ids of [wide, mixed]) {
      const plan = planKeyLookups(ids);
      expect(plan.every((l) => l.kind === 'keys')).toBe(true);
      expect(plan.flatMap((l) => (l.kind === 'keys' ? l.keys : [])).sort()).toEqual([...ids].sort());
      expect(plan).toHaveLength(Math.ceil(ids.length / 14));
    }
  });

  it('never builds a filter with more than 15 comparisons, quoting keys safely', () => {
    const ids = Array.from({ length: 200 }, (_, i) => `id'${i * 9973}`);
    for (const lookup of planKeyLookups(ids)) {
      const filter = lookupFilter(tenant, lookup);
      expect(comparisonCount(filter)).toBeLessThanOrEqual(MAX_FILTER_COMPARISONS);
      expect(filter).toContain("'id''");
    }
    expect(comparisonCount(lookupFilter(tenant, { kind: 'range', from: '1', to: '9' }))).toBe(3);
    expect(comparisonCount("RowKey eq 'a eq b or c le d'")).toBe(1);
  });
});
