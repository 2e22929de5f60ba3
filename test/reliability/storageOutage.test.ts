/**
 * Storage gone mid-run (every table connection cut and refused until the outage run has ended, so the Table SDK's
 * retries run out whatever the machine's speed; Azurite's data intact) and back: the rerun leaves the store equal to
 * the truth. The Azurite process restart variant is in `npm run reliability`.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { storageOutage } from '../../scripts/reliability/storageOutage.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('storage outage mid-run', () => {
  let stack: LocalStack;
  let allocator: TenantAllocator;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [], azurite: { persistent: true } });
    stack.trustInProcess();
    allocator = new TenantAllocator(stack, 'a2017000');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('storage unreachable from page 2 on, back only after the run ended: nothing lost, no regression, the rerun recovers every tenant', async () => {
    const row = await storageOutage({
      stack,
      allocator,
      source: 'graph',
      tenants: 3,
      incidents: 120,
      atPage: 2,
      downMs: 'untilRunEnds',
      mode: 'network',
      logLines: [],
      messages: [],
    });
    expect(row.outageHappened).toBe(true);
    expect(row.failedDuringOutage).toBeGreaterThan(0);
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
      notRecovered: 0,
    });
  });
});
