/**
 * Per-tenant call quotas in fixed windows, like the Defender APIs: each window is `windowMs` long, counted
 * from when the quota was created (so a test never straddles a wall-clock minute boundary by accident).
 * Refused calls do not count.
 */
export interface QuotaLimit {
  readonly limit: number;
  readonly windowMs: number;
}

export interface QuotaVerdict {
  readonly allowed: boolean;
  /** Whole seconds until the exhausted window ends (≥ 1) when refused. */
  readonly retryAfterSeconds: number;
}

interface Counter {
  window: number;
  count: number;
}

export class TenantQuota {
  private readonly counters: Map<string, Counter>[];
  private readonly origin: number;

  constructor(
    private readonly limits: readonly QuotaLimit[],
    private readonly now: () => number = Date.now,
  ) {
    this.counters = limits.map(() => new Map());
    this.origin = now();
  }

  /** Count one call for the tenant, or refuse it when any window is full. */
  take(tenantId: string): QuotaVerdict {
    const t = this.now() - this.origin;
    let retryMs = 0;
    const current = this.limits.map((limit, i) => {
      const window = Math.floor(t / limit.windowMs);
      const map = this.counters[i] as Map<string, Counter>;
      let counter = map.get(tenantId);
      if (!counter || counter.window !== window) {
        counter = { window, count: 0 };
        map.set(tenantId, counter);
      }
      if (counter.count >= limit.limit) retryMs = Math.max(retryMs, (window + 1) * limit.windowMs - t);
      return counter;
    });
    if (retryMs > 0) return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) };
    for (const counter of current) counter.count += 1;
    return { allowed: true, retryAfterSeconds: 0 };
  }
}
