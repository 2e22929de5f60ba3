import { describe, expect, it } from '@jest/globals';
import { LatestIndex, MAX_INDEX_ROWS } from '../../../../shared/adapters/tables/latestIndex.js';
import type { StoredLatest } from '../../../../shared/adapters/tables/snapshotRows.js';

const row = (n: number): StoredLatest => ({
  hash: `h${n}`,
  lastUpdateKey: `2026-11-20T10:00:0${n}.0000000Z`,
  etag: `W/"${n}"`,
});

describe('LatestIndex', () => {
  it('answers from a complete load: present rows found, others known absent', () => {
    const index = new LatestIndex();
    index.load(new Map([['1', row(1)]]), true);
    const { found, unknown } = index.lookup(['1', '2']);
    expect(index.state).toBe('complete');
    expect([...found]).toEqual([['1', row(1)]]);
    expect(unknown).toEqual([]);
  });

  it('switches off when the load was cut short, and then ignores every update', () => {
    const index = new LatestIndex();
    index.load(new Map([['1', row(1)]]), false);
    index.written('2', row(2));
    expect(index.state).toBe('off');
  });

  it('forgotten keys must be read again until a read or a write teaches them back', () => {
    const index = new LatestIndex();
    index.load(
      new Map([
        ['1', row(1)],
        ['2', row(2)],
      ]),
      true,
    );
    index.forget(['1', '2']);
    expect(index.lookup(['1', '2', '3']).unknown).toEqual(['1', '2']);
    index.learn(['1'], new Map()); // read: absent
    index.written('2', row(5));
    const { found, unknown } = index.lookup(['1', '2']);
    expect(unknown).toEqual([]);
    expect([...found]).toEqual([['2', row(5)]]);
  });

  it('gives up beyond its size bound rather than grow without limit', () => {
    const index = new LatestIndex();
    index.load(new Map(), true);
    for (let i = 0; i <= MAX_INDEX_ROWS; i++) index.written(String(i), row(1));
    expect(index.state).toBe('off');
  });
});
