import { describe, expect, it } from '@jest/globals';
import { SOURCE_QUOTAS } from '../../shared/adapters/rateLimiter.js';
import { scaleQuotas, scaledSourceQuotas } from '../../devstack/scaledQuotas.js';

describe('scaledSourceQuotas', () => {
  it('divides every documented window by the time scale and keeps the limits', () => {
    expect(scaledSourceQuotas(60)).toEqual({
      graph: [{ limit: 150, windowMs: 1_000 }],
      m365d: [
        { limit: 50, windowMs: 1_000 },
        { limit: 1_500, windowMs: 60_000 },
      ],
    });
    // The bench's quota scale: legacy 50 per 7.5 s.
    expect(scaledSourceQuotas(8).m365d[0]).toEqual({ limit: 50, windowMs: 7_500 });
  });

  it('leaves the documented quotas themselves untouched, and scale 1 gives them back', () => {
    expect(scaledSourceQuotas(1)).toEqual({ graph: SOURCE_QUOTAS.graph, m365d: SOURCE_QUOTAS.m365d });
    scaledSourceQuotas(60);
    expect(SOURCE_QUOTAS.m365d[0]).toEqual({ limit: 50, windowMs: 60_000 });
  });
});

describe('scaleQuotas', () => {
  it('scales any quota list (a slower time scale lengthens the windows)', () => {
    expect(scaleQuotas([{ limit: 10, windowMs: 60_000 }], 0.1)).toEqual([{ limit: 10, windowMs: 600_000 }]);
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY])('rejects time scale %p, naming it', (scale) => {
    expect(() => scaleQuotas(SOURCE_QUOTAS.graph, scale)).toThrow(/timeScale must be a positive number/);
  });
});
