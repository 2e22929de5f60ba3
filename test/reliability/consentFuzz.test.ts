/**
 * Consent fuzzing, reduced for CI (2,000 requests; `npm run reliability` sends 10,000): no tenant registered
 * without a valid state, no 5xx, no injected markup echoed raw — while legitimate consents still succeed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { fuzzConsent } from '../../scripts/reliability/consentFuzz.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('consent callback fuzzing', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('2,000 hostile callbacks: 0 registered without a valid state, 0 5xx, 0 unescaped reflections', async () => {
    const figures = await fuzzConsent({
      stack,
      allocator: new TenantAllocator(stack, 'cf017000'),
      requests: 2_000,
      seed: 7,
      logLines: [],
    });
    expect(figures.legitimateAccepted).toBe(4);
    expect(Object.keys(figures.byCategory).length).toBeGreaterThanOrEqual(12);
    expect(figures).toMatchObject({ registeredWithoutValidState: 0, serverErrors: 0, unescapedReflections: 0 });
  });
});
