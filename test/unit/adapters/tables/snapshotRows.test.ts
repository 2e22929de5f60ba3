import { describe, expect, it } from '@jest/globals';
import {
  planPage,
  type StoredLatest,
  summaryColumns,
  toVersion,
} from '../../../../shared/adapters/tables/snapshotRows.js';

const v = (id: string, t: string, extra: Record<string, unknown> = {}) =>
  toVersion({ incidentId: id, lastUpdateTime: t, incident: { id, lastUpdateDateTime: t, ...extra } });
const stored = (x: ReturnType<typeof v>, etag = 'e'): StoredLatest => ({
  hash: x.hash,
  lastUpdateKey: x.lastUpdateKey,
  etag,
});

describe('planPage', () => {
  it('skips versions whose content equals the stored latest', () => {
    const a = v('1', '2026-11-20T00:00:00Z');
    const plan = planPage([a], new Map([['1', stored(a)]]));
    expect(plan).toEqual({ history: [], latest: [], maybeExisting: [], certainlyNew: 0 });
  });

  it('counts new incidents and newer versions as certainly new; older ones need a history check', () => {
    const old = v('1', '2026-11-20T00:00:00Z');
    const cur = v('1', '2026-11-20T01:00:00Z', { s: 1 });
    const newer = v('1', '2026-11-20T02:00:00Z', { s: 2 });
    const fresh = v('2', '2026-11-20T00:00:00Z');
    const plan = planPage([old, newer, fresh], new Map([['1', stored(cur)]]));
    expect(plan.certainlyNew).toBe(2);
    expect(plan.maybeExisting).toEqual([old]);
    expect(plan.history).toHaveLength(3);
    expect(plan.latest.map((x) => x.lastUpdateTime)).toEqual(['2026-11-20T02:00:00Z', '2026-11-20T00:00:00Z']);
  });

  it('never proposes an older version as latest; the first stored copy of a version stays (design §4)', () => {
    const cur = v('1', '2026-11-20T01:00:00Z');
    const older = v('1', '2026-11-20T00:59:59.9999999Z', { x: 1 });
    expect(planPage([older], new Map([['1', stored(cur)]])).latest).toEqual([]);
    // The same instant in another shape (the other source after a switch, another offset): not written, not counted.
    const sameVersionOtherCopy = v('1', '2026-11-20T02:00:00.0000000+01:00', { x: 2 });
    const plan = planPage([sameVersionOtherCopy], new Map([['1', stored(cur)]]));
    expect(plan).toEqual({ history: [], latest: [], maybeExisting: [], certainlyNew: 0 });
    // A newer version from any source is new and becomes the latest.
    const newer = v('1', '2026-11-20T01:00:00.0000001Z', { x: 3 });
    expect(planPage([newer], new Map([['1', stored(cur)]]))).toMatchObject({ latest: [newer], certainlyNew: 1 });
  });

  it('keeps two versions of one incident from one page and picks the newest as latest', () => {
    const a = v('1', '2026-11-20T00:00:00.0000001Z');
    const b = v('1', '2026-11-20T00:00:00.0000002Z', { y: 1 });
    const plan = planPage([b, a], new Map());
    expect(plan.history).toHaveLength(2);
    expect(plan.latest).toEqual([b]);
    expect(plan.certainlyNew).toBe(2);
  });
});

describe('summaryColumns', () => {
  it('reads displayName (Graph) or incidentName (legacy), and ignores non-strings', () => {
    expect(summaryColumns({ displayName: 'g', status: 'active', severity: 'high' })).toEqual({
      title: 'g',
      status: 'active',
      severity: 'high',
    });
    expect(summaryColumns({ incidentName: 'l', status: 'Active', severity: 7 })).toEqual({
      title: 'l',
      status: 'Active',
      severity: '',
    });
  });
});
