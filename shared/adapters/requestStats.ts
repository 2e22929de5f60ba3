/**
 * Counts of incidents-API requests per tenant (every attempt, retries included): what the benchmarks and the
 * retry-storm tests measure.
 */

export interface TenantRequestCounts {
  /** Attempts sent (retries included). */
  requests: number;
  /** Attempts answered 429. */
  throttled: number;
  /** Attempts that failed and were retried. */
  retries: number;
}

export class RequestStats {
  private readonly byTenant = new Map<string, TenantRequestCounts>();

  recordRequest(tenantId: string): void {
    this.counts(tenantId).requests++;
  }

  recordThrottled(tenantId: string): void {
    this.counts(tenantId).throttled++;
  }

  recordRetry(tenantId: string): void {
    this.counts(tenantId).retries++;
  }

  /** Counts for one tenant, or summed over all tenants. */
  get(tenantId?: string): TenantRequestCounts {
    if (tenantId !== undefined) return { ...(this.byTenant.get(tenantId) ?? zero()) };
    const total = zero();
    for (const c of this.byTenant.values()) {
      total.requests += c.requests;
      total.throttled += c.throttled;
      total.retries += c.retries;
    }
    return total;
  }

  tenants(): string[] {
    return [...this.byTenant.keys()];
  }

  reset(): void {
    this.byTenant.clear();
  }

  private counts(tenantId: string): TenantRequestCounts {
    let c = this.byTenant.get(tenantId);
    if (!c) {
      c = zero();
      this.byTenant.set(tenantId, c);
    }
    return c;
  }
}

function zero(): TenantRequestCounts {
  return { requests: 0, throttled: 0, retries: 0 };
}
