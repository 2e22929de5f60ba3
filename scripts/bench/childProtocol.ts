/** What the benchmark tells a collector child process, and what the child reports back. */
export interface ChildOptions {
  /**
   * The simulators' quota time scale: the child gives the composition root the documented quotas with windows
   * divided by it (devstack's scaledSourceQuotas), so the limiter and the simulators count the same windows.
   */
  readonly timeScale?: number;
  /**
   * The sequential baseline: one tenant at a time (concurrency 1), each with the product's normal page pipeline
   * (the next page is fetched while the current one is written).
   */
  readonly sequential?: boolean;
  /** Only these tenants (default: every registered tenant). */
  readonly tenantIds?: readonly string[];
}

export interface ChildReport {
  /** runCollection only (modules loaded and tables ensured before the clock starts). */
  readonly wallMs: number;
  readonly cpuMs: number;
  /** Peak resident set of the whole child process (process.resourceUsage().maxRSS). */
  readonly maxRssMB: number;
  /** Heap still reachable after the run (only when the child runs with --expose-gc). */
  readonly retainedHeapMB?: number;
  readonly tenants: number;
  readonly ok: number;
  readonly failed: readonly string[];
  readonly pagesPerTenant: readonly number[];
  /** New incident versions written per tenant, in the order of `pagesPerTenant`. */
  readonly changedPerTenant: readonly number[];
  readonly incidentsFetched: number;
  readonly incidentsChanged: number;
  readonly tableRoundTrips: number;
  readonly tableByKind: Record<string, number>;
  readonly batchedOperations: number;
  readonly api: { readonly requests: number; readonly throttled: number; readonly retries: number };
  readonly concurrency: number;
}
