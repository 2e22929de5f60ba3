/**
 * Per-tenant rate limiter: keeps each source under its documented quota instead of bouncing off 429s.
 * Sliding-window logs (several windows at once), a safety margin below the quota, FIFO waiting per tenant,
 * and a tenant-wide pause when the service throttles anyway. A timer exists only while a request waits, and
 * it keeps the process alive: unref'd, a CLI run whose only pending work was a throttled tenant would exit
 * mid-collection with code 0. An idle limiter holds no timer.
 */
import { CollectorError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';

export interface QuotaWindow {
  /** Requests allowed by the service in one window (a positive integer). */
  readonly limit: number;
  /** Window length in milliseconds (positive). */
  readonly windowMs: number;
}

/** Documented quotas per tenant (api-notes.md). */
export const SOURCE_QUOTAS = {
  graph: [{ limit: 150, windowMs: 60_000 }],
  m365d: [
    { limit: 50, windowMs: 60_000 },
    { limit: 1_500, windowMs: 3_600_000 },
  ],
} as const satisfies Record<string, readonly QuotaWindow[]>;

/** Time source and timers, injectable so the logic is tested with a fake clock. */
export interface LimiterClock {
  now(): number;
  /** Run `fn` after `ms`; returns a cancel function. Called only while a request waits: the timer keeps the process alive. */
  schedule(fn: () => void, ms: number): () => void;
}

export const realLimiterClock: LimiterClock = {
  now: () => Date.now(),
  schedule(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
};

export interface RateLimiterOptions {
  /**
   * The windows kept under, as given: production passes SOURCE_QUOTAS; a stack whose simulated windows pass faster
   * (tests, the benchmark) passes windows already shortened to match. RangeError when a limit is not a positive
   * integer or a window is not positive.
   */
  readonly quotas: readonly QuotaWindow[];
  /** Fraction of each quota actually used (default 0.96: two spare calls of the legacy 50/minute absorb boundary jitter). */
  readonly margin?: number;
  /**
   * Each window is lengthened by this many real milliseconds (default 100, whatever the window's length). Requests granted
   * exactly one window apart can arrive less than a window apart when the earlier one was slower on the wire, and
   * the service counts arrivals: the guard covers that wire-time jitter, which does not grow with the window.
   */
  readonly windowGuardMs?: number;
  readonly clock?: LimiterClock;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
}

interface TenantState {
  /** Grant times, oldest first, pruned to the longest window. */
  readonly grants: number[];
  readonly queue: Waiter[];
  pausedUntil: number;
  cancelTimer?: () => void;
}

/** The admission rule for one tenant's grant log, pure: when may the next request go? */
export function nextAdmission(
  grants: readonly number[],
  windows: readonly { allowed: number; windowMs: number }[],
  pausedUntil: number,
  now: number,
): number {
  let at = Math.max(now, pausedUntil);
  for (const { allowed, windowMs } of windows) {
    if (grants.length < allowed) continue;
    // The request may go once the grant `allowed` places back has left the window.
    const blocking = grants[grants.length - allowed];
    if (blocking !== undefined) at = Math.max(at, blocking + windowMs);
  }
  return at;
}

export class RateLimiter {
  private readonly windows: { allowed: number; windowMs: number }[];
  private readonly longestMs: number;
  private readonly clock: LimiterClock;
  private readonly tenants = new Map<string, TenantState>();

  constructor(options: RateLimiterOptions) {
    const margin = options.margin ?? 0.96;
    if (!(margin > 0 && margin <= 1)) throw new RangeError('margin must be in (0, 1]');
    const guardMs = options.windowGuardMs ?? 100;
    if (!(guardMs >= 0)) throw new RangeError('windowGuardMs must not be negative');
    options.quotas.forEach((q, i) => {
      if (!(Number.isInteger(q.limit) && q.limit > 0))
        throw new RangeError(`quotas[${i}].limit must be a positive integer`);
      if (!(q.windowMs > 0)) throw new RangeError(`quotas[${i}].windowMs must be positive`);
    });
    this.windows = options.quotas.map((q) => ({
      allowed: Math.max(1, Math.floor(q.limit * margin)),
      windowMs: q.windowMs + guardMs,
    }));
    this.longestMs = Math.max(0, ...this.windows.map((w) => w.windowMs));
    this.clock = options.clock ?? realLimiterClock;
  }

  /** Wait for this tenant's turn (FIFO). Rejects with the signal's reason when aborted while waiting. */
  acquire(tenantId: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    const state = this.state(tenantId);
    return new Promise<void>((resolve, reject) => {
      const onAbort = signal ? () => this.abandon(tenantId, waiter) : undefined;
      const waiter: Waiter = { resolve, reject, ...(signal ? { signal } : {}), ...(onAbort ? { onAbort } : {}) };
      if (signal && onAbort) signal.addEventListener('abort', onAbort, { once: true });
      state.queue.push(waiter);
      this.pump(tenantId);
    });
  }

  /** The service throttled this tenant anyway: every caller for it pauses for `retryAfterMs`. */
  penalize(tenantId: string, retryAfterMs: number): void {
    const state = this.state(tenantId);
    state.pausedUntil = Math.max(state.pausedUntil, this.clock.now() + Math.max(0, retryAfterMs));
    this.reschedule(tenantId, state);
  }

  /** Requests waiting for a tenant (for tests and diagnostics). */
  waiting(tenantId: string): number {
    return this.tenants.get(tenantId)?.queue.length ?? 0;
  }

  private state(tenantId: string): TenantState {
    let state = this.tenants.get(tenantId);
    if (!state) {
      state = { grants: [], queue: [], pausedUntil: 0 };
      this.tenants.set(tenantId, state);
    }
    return state;
  }

  private pump(tenantId: string): void {
    const state = this.tenants.get(tenantId);
    if (!state) return;
    state.cancelTimer?.();
    delete state.cancelTimer;
    for (;;) {
      const now = this.clock.now();
      prune(state.grants, now - this.longestMs);
      const head = state.queue[0];
      if (!head) break;
      const at = nextAdmission(state.grants, this.windows, state.pausedUntil, now);
      if (at > now) {
        state.cancelTimer = this.clock.schedule(() => this.pump(tenantId), at - now);
        return;
      }
      state.queue.shift();
      state.grants.push(now);
      if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
      head.resolve();
    }
    // Forget idle tenants so thousands of tenants do not accumulate state.
    if (state.grants.length === 0 && state.pausedUntil <= this.clock.now()) this.tenants.delete(tenantId);
  }

  private reschedule(tenantId: string, state: TenantState): void {
    if (state.queue.length > 0) this.pump(tenantId);
  }

  private abandon(tenantId: string, waiter: Waiter): void {
    const state = this.tenants.get(tenantId);
    if (!state) return;
    const index = state.queue.indexOf(waiter);
    if (index < 0) return;
    state.queue.splice(index, 1);
    waiter.reject(waiter.signal ? abortReason(waiter.signal) : new Error('aborted'));
    this.pump(tenantId);
  }
}

function prune(grants: number[], before: number): void {
  let drop = 0;
  while (drop < grants.length && (grants[drop] ?? Infinity) <= before) drop++;
  if (drop > 0) grants.splice(0, drop);
}

function abortReason(signal: AbortSignal): unknown {
  return (
    signal.reason ?? new CollectorError('The operation was aborted.', { code: ErrorCode.ABORTED, kind: 'transient' })
  );
}

/** A limiter for a source's documented quotas, or for `options.quotas` when given (see RateLimiterOptions.quotas). */
export function limiterFor(
  source: keyof typeof SOURCE_QUOTAS,
  options: Omit<RateLimiterOptions, 'quotas'> & { readonly quotas?: readonly QuotaWindow[] } = {},
): RateLimiter {
  return new RateLimiter({ ...options, quotas: options.quotas ?? SOURCE_QUOTAS[source] });
}
