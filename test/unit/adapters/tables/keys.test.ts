import { describe, expect, it } from '@jest/globals';
import {
  assertSafeKey,
  decodeKey,
  encodeKey,
  EVENT_ROW_PREFIX,
  eventRowKey,
  HISTORY_SUFFIX_LENGTH,
  historyRowKey,
  idKeyOfHistoryRowKey,
  isHistoryRowKey,
  sequenceOfEventRowKey,
} from '../../../../shared/adapters/tables/keys.js';

describe('table keys', () => {
  it('keeps ordinary incident IDs verbatim (the contract RowKey is the incident ID)', () => {
    for (const id of ['2972395', '924565', 'ab-12_cd.ef', "it's", 'Ünï 😀']) expect(encodeKey(id)).toBe(id);
  });

  it('escapes / \\ # ? % and control characters, reversibly', () => {
    const ids = ['a/b', 'c\\d', 'e#f', 'g?h', '100%', '%2F', 'x\u0000\u001f\u007f\u009fy', '/\\#?%'];
    for (const id of ids) {
      const key = encodeKey(id);
      // eslint-disable-next-line no-control-regex
      expect(key).not.toMatch(/[/\\#?\u0000-\u001f\u007f-\u009f]/);
      expect(decodeKey(key)).toBe(id);
    }
    expect(encodeKey('a/b')).toBe('a%2Fb');
    expect(new Set(ids.map(encodeKey)).size).toBe(ids.length);
  });

  it('rejects empty and oversized IDs, and unsafe unescaped keys, as permanent errors', () => {
    expect(() => encodeKey('')).toThrow(expect.objectContaining({ code: 'TABLE_INVALID_KEY', kind: 'permanent' }));
    expect(() => encodeKey('9'.repeat(481))).toThrow(expect.objectContaining({ code: 'TABLE_INVALID_KEY' }));
    expect(() => assertSafeKey('a#b', 'tenant ID')).toThrow(expect.objectContaining({ code: 'TABLE_INVALID_KEY' }));
    expect(assertSafeKey('b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c', 'tenant ID')).toBe(
      'b3c1b5fc-828c-45fa-a1e1-10d74f6d6e9c',
    );
  });

  it('builds history RowKeys as id _ fixed-width time, and splits them back', () => {
    const rk = historyRowKey('a_b', '2026-11-20T10:00:00.1234567Z');
    expect(rk).toBe('a_b_2026-11-20T10:00:00.1234567Z');
    expect(rk.length - 'a_b'.length).toBe(HISTORY_SUFFIX_LENGTH);
    expect(idKeyOfHistoryRowKey(rk)).toBe('a_b');
  });
});

describe('event row keys', () => {
  it('sort numerically after every history key, and parse back', () => {
    const keys = [eventRowKey(9), eventRowKey(10), eventRowKey(1_732_000_000_000_000)];
    expect([...keys].sort()).toEqual(keys);
    expect(keys.map(sequenceOfEventRowKey)).toEqual([9, 10, 1_732_000_000_000_000]);
    expect(eventRowKey(Number.MAX_SAFE_INTEGER)).toBe('~ev_9007199254740991');
    expect(historyRowKey(encodeKey('123'), '2026-11-20T10:00:00.0000000Z') < EVENT_ROW_PREFIX).toBe(true);
    expect(encodeKey('\u{10FFFF}zz').startsWith(EVENT_ROW_PREFIX)).toBe(false);
    expect(isHistoryRowKey(historyRowKey('123', '2026-11-20T10:00:00.0000000Z'))).toBe(true);
    expect(isHistoryRowKey(keys[0] as string)).toBe(false);
    expect(sequenceOfEventRowKey('123_2026-11-20T10:00:00.0000000Z')).toBeUndefined();
    expect(() => eventRowKey(-1)).toThrow();
    expect(() => eventRowKey(1.5)).toThrow();
  });

  it('an incident ID starting with ~ is escaped, so it never sorts among event rows', () => {
    expect(encodeKey('~ev_1')).toBe('%7Eev_1');
    expect(decodeKey(encodeKey('~ev_1'))).toBe('~ev_1');
    expect(encodeKey('a~b')).toBe('a~b');
  });
});
