/** What the benchmark tells a child process (collectChild, deliverChild), and what the child reports back. */
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

// The delivery workload's child (deliverChild.ts).

/** What the delivery workload tells a deliver child. */
export interface DeliverChildOptions {
  /** Passes at most while events are still owed (default 20): a pass sends at most its read limit per tenant. */
  readonly maxPasses?: number;
}

/** Counts of one stretch of the child's work (the busy passes, or an idle pass). */
export interface DeliverStretch {
  readonly wallMs: number;
  /** User + system CPU of the child in the stretch, ms. */
  readonly cpuMs: number;
  readonly passes: number;
  readonly delivered: number;
  readonly failed: number;
  readonly deadLettered: number;
  /** Events still owed after the stretch's last pass. */
  readonly pending: number;
  readonly tableRoundTrips: number;
  /** Round trips by `METHOD table` (tableRoundTrips.ts). */
  readonly tableByKind: Record<string, number>;
}

export interface DeliverChildReport {
  /** The passes that sent the backlog. */
  readonly busy: DeliverStretch;
  /** One more pass with nothing new to send, as the timer makes it between full passes (the tenants' hints trusted). */
  readonly idle: DeliverStretch;
  /** Then one full pass with nothing new to send (every tenant's event log read: the timer's every 15 minutes). */
  readonly idleFull: DeliverStretch;
  /** Peak resident set of the child process. */
  readonly maxRssMB: number;
  /** DELIVERY_TIMEOUT_SECONDS as the child read it (sizes the pair lease). */
  readonly timeoutSeconds: number;
}
