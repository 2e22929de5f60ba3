/**
 * The fleet's lower bound: what the configured concurrency, page counts and injected latency allow at best,
 * with infinitely fast CPUs and storage. Each tenant needs one token call and its pages one after another
 * (Graph pages chain through `@odata.nextLink`, so a tenant cannot be parallelised); tenants are spread over
 * `concurrency` lanes. The Key Vault read happens once per process and is left out (it only lowers the bound).
 */
export interface LowerBoundInput {
  /** Incident-list pages per tenant, as collected. */
  readonly pagesPerTenant: readonly number[];
  readonly concurrency: number;
  readonly apiMs: number;
  readonly tokenMs: number;
}

/** Milliseconds: the larger of the total lane work divided by the lanes, and the longest single tenant. */
export function fleetLowerBoundMs(input: LowerBoundInput): number {
  const perTenant = input.pagesPerTenant.map((pages) => input.tokenMs + pages * input.apiMs);
  const total = perTenant.reduce((sum, ms) => sum + ms, 0);
  const lanes = Math.max(1, Math.min(input.concurrency, perTenant.length));
  return Math.max(total / lanes, ...perTenant, 0);
}
