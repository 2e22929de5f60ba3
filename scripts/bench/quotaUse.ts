/**
 * How well a run used a per-tenant quota, from the simulator's request log (arrival times): the calls that
 * arrived in each complete quota window from the first call on, averaged, as a fraction of the quota. Only
 * complete windows count — the last, partial one would understate, and a start burst cannot overstate
 * because every window is measured at the quota's own length.
 */
export interface QuotaUse {
  readonly calls: number;
  readonly throttled: number;
  /** Throttled answers after the first one (the goal is none: no retry storm). */
  readonly throttledAfterFirst: number;
  readonly fullWindows: number;
  /** Mean calls per complete window ÷ quota (undefined when the run was shorter than one window). */
  readonly fractionOfQuota: number | undefined;
  /** The busiest window of quota length anywhere in the run ÷ quota (must stay ≤ 1 for no 429s). */
  readonly peakFraction: number;
}

export interface LoggedCall {
  readonly at: number;
  readonly status: number;
}

export function quotaUse(calls: readonly LoggedCall[], quota: number, windowMs: number): QuotaUse {
  const times = calls.map((c) => c.at).sort((a, b) => a - b);
  const throttled = calls.filter((c) => c.status === 429).length;
  const first = times[0];
  const last = times[times.length - 1];
  let fullWindows = 0;
  let inFull = 0;
  if (first !== undefined && last !== undefined) {
    fullWindows = Math.floor((last - first) / windowMs);
    const end = first + fullWindows * windowMs;
    inFull = times.filter((t) => t < end).length;
  }
  return {
    calls: times.length,
    throttled,
    throttledAfterFirst: Math.max(0, throttled - 1),
    fullWindows,
    fractionOfQuota: fullWindows > 0 ? inFull / fullWindows / quota : undefined,
    peakFraction: peakInWindow(times, windowMs) / quota,
  };
}

/** Most calls within any half-open interval of `windowMs` (two pointers over sorted times). */
function peakInWindow(sorted: readonly number[], windowMs: number): number {
  let peak = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] as number) - (sorted[start] as number) >= windowMs) start++;
    peak = Math.max(peak, end - start + 1);
  }
  return peak;
}
