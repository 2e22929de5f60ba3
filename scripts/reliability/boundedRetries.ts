/**
 * Bounded retries (issue 5 §7): a tenant whose API or token endpoint fails permanently, collected once; the
 * requests it caused are counted at the simulators and compared with the stated bound. The HTTP adapter makes at
 * most RETRY_LIMIT + 1 = 5 attempts per call; Graph's `$expand=alerts` fallback may repeat the first page once
 * without expand after any 5xx, timeout or reset (so ≤ 10 there; not after a 429); @azure/identity retries a
 * failing token request 3 times (≤ 4 token calls).
 */
import { RETRY_LIMIT } from '../../shared/adapters/http.js';
import type { SourceKind } from '../../shared/ports.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { clearFaults } from './faultCatalogue.js';
import { TenantAllocator } from './tenantAllocator.js';

export interface RetryRow {
  readonly failure: string;
  readonly source: SourceKind;
  readonly requests: number;
  readonly bound: number;
  readonly outcome: string;
}

const ATTEMPTS = RETRY_LIMIT + 1;

interface Case {
  readonly failure: string;
  readonly bound: (source: SourceKind) => number;
  readonly arm: (stack: LocalStack, tenant: string, source: SourceKind) => void;
  readonly count: (stack: LocalStack, tenant: string, source: SourceKind) => number;
}

const apiRequests = (stack: LocalStack, tenant: string, source: SourceKind) =>
  (source === 'graph' ? stack.graph : stack.legacy).requests.filter((r) => r.tenantId === tenant).length;
const tokenRequests = (stack: LocalStack, tenant: string) =>
  stack.entra.requests.filter((r) => r.kind === 'token' && r.tenantId === tenant).length;

const CASES: readonly Case[] = [
  {
    failure: 'API 503 forever',
    bound: (src) => (src === 'graph' ? 2 * ATTEMPTS : ATTEMPTS),
    count: apiRequests,
    arm: (s, t, src) =>
      (src === 'graph' ? s.graph : s.legacy).inject({ match: (r) => r.tenantId === t, status: 503, times: Infinity }),
  },
  {
    failure: 'API 500 forever',
    bound: (src) => (src === 'graph' ? 2 * ATTEMPTS : ATTEMPTS),
    count: apiRequests,
    arm: (s, t, src) =>
      (src === 'graph' ? s.graph : s.legacy).inject({ match: (r) => r.tenantId === t, status: 500, times: Infinity }),
  },
  {
    failure: 'API 429 forever (no Retry-After)',
    bound: () => ATTEMPTS,
    count: apiRequests,
    arm: (s, t, src) =>
      (src === 'graph' ? s.graph : s.legacy).inject({ match: (r) => r.tenantId === t, status: 429, times: Infinity }),
  },
  {
    failure: 'API connection reset forever',
    bound: (src) => (src === 'graph' ? 2 * ATTEMPTS : ATTEMPTS),
    count: apiRequests,
    arm: (s, t, src) =>
      (src === 'graph' ? s.graph : s.legacy).inject({
        match: (r) => r.tenantId === t,
        reset: 'before',
        times: Infinity,
      }),
  },
  {
    failure: 'token endpoint 503 forever',
    bound: () => 4,
    count: (s, t) => tokenRequests(s, t),
    arm: (s, t) =>
      s.entra.inject({
        match: (r) => r.kind === 'token' && r.tenantId === t,
        status: 503,
        body: { error: 'temporarily_unavailable' },
        times: Infinity,
      }),
  },
  {
    failure: 'consent revoked (AADSTS700016)',
    bound: () => 1,
    count: (s, t) => tokenRequests(s, t),
    arm: (s, t) => s.entra.setTenantConsent(t, 'revoked'),
  },
];

export async function measureBoundedRetries(
  stack: LocalStack,
  allocator: TenantAllocator,
  sources: readonly SourceKind[],
  logLines: string[],
): Promise<RetryRow[]> {
  const rows: RetryRow[] = [];
  for (const source of sources) {
    for (const c of CASES) {
      const [tenant] = allocator.allocate(1, 60) as [string];
      const env = { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0' };
      const proc = await collectorProcess({ env, logLines });
      await TenantAllocator.register(proc.services.tenants, [tenant]);
      c.arm(stack, tenant, source);
      try {
        const run = await runCollection(proc.runDeps, { trigger: 'reliability', tenantIds: [tenant] });
        const r = run.tenants[0];
        rows.push({
          failure: c.failure,
          source,
          requests: c.count(stack, tenant, source),
          bound: c.bound(source),
          outcome: r?.status === 'ok' ? 'ok' : `${r?.status}:${r?.error?.code}`,
        });
      } finally {
        clearFaults(stack);
      }
    }
  }
  return rows;
}
