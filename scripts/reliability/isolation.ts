/**
 * Tenant isolation (issue 5 §4): a token for tenant B served when A was asked, a token without `tid`, a token
 * without `roles`. For each: nothing written for the tenant, no API request made with its token, and the tenant
 * status explains why.
 */
import type { SourceKind } from '../../shared/ports.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { TenantAllocator } from './tenantAllocator.js';

export interface IsolationRow {
  readonly case: string;
  readonly source: SourceKind;
  readonly rowsWritten: number;
  readonly apiRequests: number;
  readonly status: string;
  readonly errorCode: string;
}

export async function measureIsolation(
  stack: LocalStack,
  allocator: TenantAllocator,
  sources: readonly SourceKind[],
  logLines: string[],
): Promise<IsolationRow[]> {
  const rows: IsolationRow[] = [];
  for (const source of sources) {
    const [other] = allocator.allocate(1, 5) as [string];
    const cases: [string, (t: string) => void][] = [
      ['token for another tenant', (t) => stack.entra.issueTokensFor(t, other)],
      ['token without tid', (t) => stack.entra.issueTokensFor(t, null)],
      ['token without roles', (t) => stack.entra.setTenantRoles(t, [])],
    ];
    for (const [name, arm] of cases) {
      const [tenant] = allocator.allocate(1, 10) as [string];
      const env = { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0' };
      const proc = await collectorProcess({ env, logLines });
      await TenantAllocator.register(proc.services.tenants, [tenant]);
      arm(tenant);
      const api = source === 'graph' ? stack.graph : stack.legacy;
      const before = api.requests.length;
      await runCollection(proc.runDeps, { trigger: 'reliability', tenantIds: [tenant] });
      let written = 0;
      for await (const _row of proc.services.snapshots.history({ tenantId: tenant })) written++;
      for await (const _row of proc.services.snapshots.latest({ tenantId: tenant })) written++;
      const record = await proc.services.tenants.get(tenant);
      rows.push({
        case: name,
        source,
        rowsWritten: written,
        apiRequests: api.requests.length - before,
        status: record?.status ?? 'missing',
        errorCode: record?.lastErrorCode ?? '',
      });
    }
  }
  return rows;
}
