import { describe, expect, it } from '@jest/globals';
import { isDrifted, nextGraphStep, restartStep } from '../../../shared/adapters/graphPaging.js';

const base = 'https://graph.example/v1.0/security/incidents?$filter=x&$top=50';
const from = '2026-11-01T00:00:00.0000000Z';
const later = '2026-11-01T05:00:00.1234567Z';
const input = (over: Partial<Parameters<typeof nextGraphStep>[0]>) => ({
  nextLink: undefined,
  queryFrom: from,
  highest: later,
  seen: new Set<string>(),
  emptyPages: 0,
  ...over,
});

describe('nextGraphStep', () => {
  it('is done without a nextLink', () => {
    expect(nextGraphStep(input({}))).toEqual({ action: 'done' });
  });

  it('follows a nextLink whole up to $skip 500', () => {
    const url = `${base}&$skip=500`;
    expect(nextGraphStep(input({ nextLink: url }))).toEqual({ action: 'follow', url });
    const encoded = `${base}&%24skip=450`;
    expect(nextGraphStep(input({ nextLink: encoded }))).toEqual({ action: 'follow', url: encoded });
  });

  it('restarts at the highest instant instead of following $skip past 500', () => {
    expect(nextGraphStep(input({ nextLink: `${base}&$skip=550` }))).toEqual({ action: 'restart', from: later });
    expect(nextGraphStep(input({ nextLink: `${base}&%24skip=501` }))).toEqual({ action: 'restart', from: later });
  });

  it('throws instead of looping when a restart makes no progress (over 500 incidents at one instant)', () => {
    expect(() => nextGraphStep(input({ nextLink: `${base}&$skip=550`, highest: from }))).toThrow(
      expect.objectContaining({ code: 'GRAPH_INSTANT_OVERFLOW' }),
    );
    expect(() => restartStep(from, undefined)).toThrow(expect.objectContaining({ code: 'GRAPH_INSTANT_OVERFLOW' }));
  });

  it('detects a nextLink loop', () => {
    const url = `${base}&$skip=50`;
    expect(() => nextGraphStep(input({ nextLink: url, seen: new Set([url]) }))).toThrow(
      expect.objectContaining({ code: 'GRAPH_NEXTLINK_LOOP' }),
    );
  });

  it('follows a few empty pages that still carry a nextLink, then gives up', () => {
    expect(nextGraphStep(input({ nextLink: `${base}&$skip=50`, emptyPages: 3 })).action).toBe('follow');
    expect(() => nextGraphStep(input({ nextLink: `${base}&$skip=50`, emptyPages: 11 }))).toThrow(
      expect.objectContaining({ code: 'GRAPH_EMPTY_PAGES' }),
    );
  });

  it('calls a page drifted when @odata.count moved since the previous page of the same query', () => {
    expect(isDrifted(180, 179, `${base}&$skip=50`)).toBe(true);
    expect(isDrifted(180, 181, `${base}&$skip=50`)).toBe(true);
    expect(isDrifted(180, 180, `${base}&$skip=50`)).toBe(false);
    expect(isDrifted(undefined, 179, `${base}&$skip=50`)).toBe(false);
    expect(isDrifted(180, 179, base)).toBe(false);
  });
});
