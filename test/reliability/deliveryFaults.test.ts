/**
 * The delivery fault family at CI size: a receiver answering 500, resetting connections or answering too late for
 * a while. Nothing is lost, nothing arrives out of order per incident; duplicates are allowed (at least once).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deliveryFault, type DeliveryFault } from '../../scripts/reliability/deliveryFaults.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('delivery faults', () => {
  let stack: LocalStack;
  let allocator: TenantAllocator;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
    allocator = new TenantAllocator(stack, 'de11e000');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each(['http500', 'reset', 'timeout'] as DeliveryFault[])(
    'receiver fault %s for a while: nothing lost, order per incident kept',
    async (fault) => {
      const row = await deliveryFault({
        stack,
        allocator,
        fault,
        tenants: 2,
        incidents: 4,
        changes: 2,
        faultTimes: 3,
        logLines: [],
      });
      expect(row.faulted).toBeGreaterThan(0);
      expect(row).toMatchObject({ lost: 0, outOfOrder: 0, deadLettered: 0 });
      expect(row.events).toBe(12); // 2 tenants × (4 created + 2 updated)
      expect(row.received).toBeGreaterThanOrEqual(row.events);
    },
  );

  it('the deliverer SIGKILLed mid-send (the real CLI from dist/): the next process loses nothing, order kept', async () => {
    const row = await deliveryFault({
      stack,
      allocator,
      fault: 'kill',
      tenants: 1,
      incidents: 6,
      changes: 2,
      faultTimes: 3,
      logLines: [],
      repoRoot: process.cwd(),
    });
    expect(row.faulted).toBe(1); // killed at the third POST
    expect(row).toMatchObject({ events: 8, lost: 0, outOfOrder: 0, deadLettered: 0 });
    // The POST the child died in was recorded by the receiver and is sent again: at least once.
    expect(row.duplicates).toBeGreaterThanOrEqual(1);
  });
});
