/**
 * Overlapping runs from two processes, a duplicate delivery, and checkpoint writers racing: exactly the tenants'
 * collections that held the lease ran, no checkpoint regression, no lost checkpoint update, store equals the truth.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { measureConcurrency } from '../../scripts/reliability/concurrency.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('concurrency', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('overlapping runs, a duplicate message and racing checkpoint writers lose nothing', async () => {
    const row = await measureConcurrency(stack, new TenantAllocator(stack, 'cc017000'), 'graph', 4, []);
    expect(row.collected + row.leaseHeld).toBe(2 * 4 + 1);
    expect(row.collected).toBeGreaterThanOrEqual(4);
    expect(row).toMatchObject({
      lost: 0,
      stale: 0,
      duplicateHistory: 0,
      historyGaps: 0,
      versionsWithoutEvent: 0,
      eventsWithoutVersion: 0,
      duplicateEvents: 0,
      foreign: 0,
      checkpointRegressions: 0,
      lostCheckpointUpdates: 0,
    });
  });
});
