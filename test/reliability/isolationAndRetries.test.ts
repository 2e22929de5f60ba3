/**
 * Tenant isolation (a token for another tenant, without tid, without roles: nothing written, no API call, a status
 * that explains) and bounded retries (a permanently failing tenant causes at most the stated number of requests).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { measureBoundedRetries } from '../../scripts/reliability/boundedRetries.js';
import { measureIsolation } from '../../scripts/reliability/isolation.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('isolation and bounded retries', () => {
  let stack: LocalStack;
  let allocator: TenantAllocator;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
    allocator = new TenantAllocator(stack, 'b1017000');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('a foreign, tid-less or role-less token: nothing written, no API request, the status says why', async () => {
    const rows = await measureIsolation(stack, allocator, ['graph'], []);
    expect(rows.map((r) => [r.case, r.rowsWritten, r.apiRequests, r.status, r.errorCode])).toEqual([
      ['token for another tenant', 0, 0, 'credential_error', 'TOKEN_TENANT_MISMATCH'],
      ['token without tid', 0, 0, 'credential_error', 'TOKEN_TENANT_MISMATCH'],
      ['token without roles', 0, 0, 'missing_permissions', 'MISSING_ROLE'],
    ]);
  });

  it('a permanently failing tenant stays within the stated request bound', async () => {
    const rows = await measureBoundedRetries(stack, allocator, ['graph', 'm365d'], []);
    for (const row of rows) {
      expect(row.outcome).not.toBe('ok');
      expect(row.requests).toBeGreaterThan(0);
      expect(row.requests).toBeLessThanOrEqual(row.bound);
    }
  });
});
