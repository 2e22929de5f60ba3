/**
 * The delivery fault family at CI size: a receiver answering 500, resetting connections or answering too late for
 * a while; Logs Ingestion answering 429; the deliverer SIGKILLed mid-send; `collect` SIGKILLed between its history
 * writes and its delivery pass. Nothing is lost, nothing arrives out of order per incident, every stored version has
 * exactly its event; duplicates are allowed (at least once). Kill points are simulator/proxy gates, never timers.
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

  const consistent = { lost: 0, outOfOrder: 0, versionsWithoutEvent: 0, eventsWithoutVersion: 0 };

  it.each(['http500', 'reset', 'timeout', 'la429'] as DeliveryFault[])(
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
      expect(row).toMatchObject({ ...consistent, deadLettered: 0 });
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
    expect(row).toMatchObject({ ...consistent, events: 8, deadLettered: 0 });
    // The POST the child died in was recorded by the receiver and is sent again: at least once.
    expect(row.duplicates).toBeGreaterThanOrEqual(1);
  });

  it('collect SIGKILLed after writing its versions, before delivering (the real CLI): deliver sends them all', async () => {
    const row = await deliveryFault({
      stack,
      allocator,
      fault: 'collectKill',
      tenants: 1,
      incidents: 4,
      changes: 2,
      faultTimes: 1,
      logLines: [],
      repoRoot: process.cwd(),
    });
    expect(row.faulted).toBe(1); // killed as its delivery pass began
    expect(row).toMatchObject({ ...consistent, events: 6, deadLettered: 0, duplicates: 0 });
    expect(row.received).toBe(6);
  });
});
