/** Queue message validation and the admin API's `since` parsing (pure). */
import { describe, expect, it } from '@jest/globals';
import { parseSince } from '../../../shared/usecases/requestCollection.js';
import { parseCollectMessage } from '../../../shared/usecases/queueWorker.js';

const GOOD = {
  runId: '20260101T000000Z-abcd1234',
  runStartedAt: '2026-01-01T00:00:00.000Z',
  tenantId: 'AAAAAAAA-0000-4000-8000-000000000001',
};

describe('parseCollectMessage', () => {
  it('accepts the planned message, as an object or a JSON string, and lower-cases the tenant', () => {
    for (const body of [GOOD, JSON.stringify(GOOD)]) {
      expect(parseCollectMessage(body)).toEqual({
        ok: true,
        message: { ...GOOD, tenantId: GOOD.tenantId.toLowerCase() },
      });
    }
    expect(parseCollectMessage({ ...GOOD, since: '2025-12-01T00:00:00Z' })).toMatchObject({
      ok: true,
      message: { since: '2025-12-01T00:00:00Z' },
    });
    expect(parseCollectMessage({ ...GOOD, slot: 41 })).toMatchObject({ ok: true, message: { slot: 41 } });
    // A message enqueued before slots existed is still collected (and counted per delivery).
    expect((parseCollectMessage(GOOD) as { message: object }).message).not.toHaveProperty('slot');
  });

  it('rejects malformed messages, keeping the run reference when that part is sound', () => {
    expect(parseCollectMessage({ ...GOOD, tenantId: 'x' })).toMatchObject({
      ok: false,
      run: { runId: GOOD.runId, runStartedAt: GOOD.runStartedAt },
    });
    expect(parseCollectMessage({ ...GOOD, since: 'last week' })).toMatchObject({ ok: false });
    expect(parseCollectMessage({ ...GOOD, runId: "x' or 1 eq 1" })).toEqual(expect.objectContaining({ ok: false }));
    expect(parseCollectMessage({ ...GOOD, runId: "x' or 1 eq 1" })).not.toHaveProperty('run');
    for (const body of ['not json', 42, null, [], {}]) expect(parseCollectMessage(body)).toMatchObject({ ok: false });
    for (const slot of [-1, 1.5, '3', 64 * 1024 * 8])
      expect(parseCollectMessage({ ...GOOD, slot })).toMatchObject({
        ok: false,
        problem: expect.stringContaining('slot'),
      });
  });
});

describe('parseSince', () => {
  it('takes the body first, then the query; empty means none', () => {
    expect(parseSince('{"since":"2026-01-31T00:00:00Z"}', '2025-01-01T00:00:00Z')).toBe('2026-01-31T00:00:00Z');
    expect(parseSince('', '2025-01-01T00:00:00Z')).toBe('2025-01-01T00:00:00Z');
    expect(parseSince('{}', null)).toBeUndefined();
    expect(parseSince('  ', '')).toBeUndefined();
  });

  it('names what is wrong', () => {
    expect(() => parseSince('{"since":"tomorrow"}', null)).toThrow(expect.objectContaining({ field: 'since' }));
    expect(() => parseSince('{"since":5}', null)).toThrow(expect.objectContaining({ field: 'since' }));
    expect(() => parseSince('[1]', null)).toThrow(expect.objectContaining({ field: 'body' }));
    expect(() => parseSince('{', null)).toThrow(expect.objectContaining({ field: 'body' }));
  });
});
