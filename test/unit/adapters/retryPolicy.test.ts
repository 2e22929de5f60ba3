import { describe, expect, it } from '@jest/globals';
import { apiErrorOf, parseRetryAfter, parseTryAgainIn, retryDelayMs } from '../../../shared/adapters/retryPolicy.js';

const backoff = { baseMs: 1_000, capMs: 30_000, maxRetryAfterMs: 120_000 };

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-24T10:00:00Z');
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter(['3'], now)).toBe(3_000);
  });
  it('reads an HTTP date relative to now (never negative)', () => {
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Tue, 24 Nov 2026 09:59:00 GMT', now)).toBe(0);
  });
  it('ignores absent or invalid values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('parseTryAgainIn (legacy 429 body)', () => {
  it('reads N from "Try again in N seconds"', () => {
    const body = {
      error: { code: 'TooManyRequests', message: 'Rate limit is exceeded. Try again in 12 seconds.', target: 'x' },
    };
    expect(parseTryAgainIn(body)).toBe(12_000);
    expect(parseTryAgainIn({ error: { message: 'try again in 1 second' } })).toBe(1_000);
  });
  it('gives nothing for other bodies', () => {
    expect(parseTryAgainIn({ error: { code: 'TooManyRequests', message: 'Too many requests' } })).toBeUndefined();
    expect(parseTryAgainIn(undefined)).toBeUndefined();
    expect(parseTryAgainIn('<html>')).toBeUndefined();
  });
});

describe('apiErrorOf', () => {
  it('reads Graph and legacy error bodies', () => {
    expect(apiErrorOf({ error: { code: 'Forbidden', message: 'no', innerError: {} } })).toEqual({
      code: 'Forbidden',
      message: 'no',
    });
    expect(apiErrorOf({ value: [] })).toBeUndefined();
    expect(apiErrorOf('text')).toBeUndefined();
  });
});

describe('retryDelayMs', () => {
  it('honours a server hint, capped', () => {
    expect(retryDelayMs(1, 5_000, backoff)).toBe(5_000);
    expect(retryDelayMs(1, 3_600_000, backoff)).toBe(120_000);
    expect(retryDelayMs(2, 0, backoff)).toBe(1);
  });
  it('backs off exponentially with jitter between half and all of the step, capped', () => {
    const low = { ...backoff, random: () => 0 };
    const high = { ...backoff, random: () => 0.999999 };
    expect(retryDelayMs(1, undefined, low)).toBe(500);
    expect(retryDelayMs(1, undefined, high)).toBe(1_000);
    expect(retryDelayMs(3, undefined, low)).toBe(2_000);
    expect(retryDelayMs(3, undefined, high)).toBe(4_000);
    expect(retryDelayMs(10, undefined, high)).toBe(30_000);
  });
});
