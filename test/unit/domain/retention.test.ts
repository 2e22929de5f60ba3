/** Which old versions of one incident the prune removes (domain/retention.ts): pure, table-driven. */
import { describe, expect, it } from '@jest/globals';
import { decideOldVersions, isOwed, type OldVersion } from '../../../shared/domain/retention.js';

const v = (n: number, type: 'incident.created' | 'incident.updated' | null, recent = false): OldVersion => ({
  key: `i_${n}`,
  lastUpdateKey: `2026-01-0${n}`,
  recent,
  ...(type ? { event: { sequence: n, rowKey: `~ev_${n}`, type } } : {}),
});
const nothingOwed = () => false;
const summary = (ds: ReturnType<typeof decideOldVersions>) =>
  ds.map((d) => (d.removeVersion ? 'remove' : d.removeEventOnly ? `${d.kept}-eventless` : d.kept));

describe('decideOldVersions', () => {
  it('keeps the latest and, for its update event, the version before it (without its event); removes the rest', () => {
    const olds = [v(1, 'incident.created'), v(2, 'incident.updated'), v(3, 'incident.updated')];
    expect(
      summary(decideOldVersions(olds, { latestKey: '2026-01-03', newerExists: false, owed: nothingOwed })),
    ).toEqual(['remove', 'previous-eventless', 'latest']);
  });

  it('a newer version beyond the cutoff keeps the newest old one as its previous', () => {
    const olds = [v(1, 'incident.created'), v(2, 'incident.updated')];
    expect(summary(decideOldVersions(olds, { latestKey: '2026-02-01', newerExists: true, owed: nothingOwed }))).toEqual(
      ['remove', 'previous-eventless'],
    );
  });

  it('owed events keep their versions, and each keeps the one before; a created event needs no previous', () => {
    const olds = [v(1, 'incident.created'), v(2, 'incident.updated'), v(3, 'incident.created'), v(4, null)];
    const owed = isOwed({ sequences: new Set([2, 3]) });
    expect(summary(decideOldVersions(olds, { latestKey: '2026-09-01', newerExists: true, owed }))).toEqual([
      'previous-eventless',
      'undelivered',
      'undelivered',
      'previous',
    ]);
  });

  it('recent rows are kept; without a latest row the newest version counts as latest', () => {
    const olds = [v(1, 'incident.created'), v(2, null, true), v(3, null)];
    expect(summary(decideOldVersions(olds, { newerExists: false, owed: nothingOwed }))).toEqual([
      'remove',
      'recent',
      'latest',
    ]);
  });

  it('isOwed: above `after` or listed', () => {
    const owed = isOwed({ after: 10, sequences: new Set([3]) });
    expect([3, 4, 10, 11].map(owed)).toEqual([true, false, false, true]);
    expect(isOwed({ sequences: new Set() })(Number.MAX_SAFE_INTEGER)).toBe(false);
  });
});
