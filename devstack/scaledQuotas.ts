/**
 * The collector's quota windows for a stack whose simulated time runs faster (StackOptions.timeScale): the
 * simulators divide their quota windows by the time scale, so the collector's limiter must keep under windows
 * divided by the same factor, or it would pace a 50-per-7.5-seconds quota at 50 per minute. Used by the tests
 * and the benchmark, which pass the result to the composition root (ServiceOptions.quotas) or to a RateLimiter.
 * Only the windows are scaled: the limits stay the documented ones, and the limiter's wire-time guard is added
 * to the scaled windows unscaled (it covers network jitter, which does not speed up with simulated time).
 */
import { SOURCE_QUOTAS, type QuotaWindow } from '../shared/adapters/rateLimiter.js';
import type { SourceKind } from '../shared/ports.js';

/** `quotas` with every window divided by `timeScale` (> 0; 60 turns a minute into a second). RangeError otherwise. */
export function scaleQuotas(quotas: readonly QuotaWindow[], timeScale: number): QuotaWindow[] {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) {
    throw new RangeError(`timeScale must be a positive number (got ${String(timeScale)})`);
  }
  return quotas.map((q) => ({ limit: q.limit, windowMs: q.windowMs / timeScale }));
}

/** The documented quotas of every source (SOURCE_QUOTAS, api-notes.md) with windows divided by `timeScale`. */
export function scaledSourceQuotas(timeScale: number): Record<SourceKind, QuotaWindow[]> {
  return {
    graph: scaleQuotas(SOURCE_QUOTAS.graph, timeScale),
    m365d: scaleQuotas(SOURCE_QUOTAS.m365d, timeScale),
  };
}
