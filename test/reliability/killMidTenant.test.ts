/**
 * The collector process SIGKILLed between a page's write and its checkpoint (the real CLI from dist/, run by
 * `npm test` after the build): the next run re-collects from the last checkpoint and the store equals the truth —
 * also when the rerun collects from the other source (each row then equals the truth of its own source).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { killMidTenant } from '../../scripts/reliability/killMidTenant.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('SIGKILL mid-tenant', () => {
  let stack: LocalStack;
  let allocator: TenantAllocator;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
    allocator = new TenantAllocator(stack, 'c1117000');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it.each([
    // Graph checkpoints once per slice read whole (issue 10): the first checkpoint write follows every page's write.
    ['graph', 1, 'graph'],
    ['m365d', 1, 'm365d'],
    // Issue 14: the legacy run is killed, the rerun collects from Graph (a source switch across the kill).
    ['m365d', 1, 'graph'],
  ] as const)(
    '%s, killed before checkpoint write %i, rerun from %s: nothing lost after the rerun',
    async (source, killAtPage, rerunFrom) => {
      const switchTo = rerunFrom === source ? undefined : rerunFrom;
      const row = await killMidTenant({
        stack,
        allocator,
        source,
        ...(switchTo ? { switchTo } : {}),
        incidents: 160,
        killAtPage,
        repoRoot: process.cwd(),
        logLines: [],
        childOutput: [],
      });
      expect(row.killedAtPoint).toBe(true);
      expect(row.switchedTo).toBe(switchTo ?? null);
      expect(row.rowsPastCheckpoint).toBe(true);
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
    },
  );
});
