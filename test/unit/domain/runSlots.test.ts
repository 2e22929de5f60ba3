import { describe, expect, it } from '@jest/globals';
import {
  isOwnedByRun,
  isSlotSettled,
  MAX_RUN_SLOTS,
  runLeaseOwner,
  withSlotSettled,
} from '../../../shared/domain/runSlots.js';

describe('run slots', () => {
  it('sets exactly the slots asked for, growing only as far as needed, without touching the input', () => {
    const first = withSlotSettled(undefined, 9);
    expect(first).toHaveLength(2);
    const second = withSlotSettled(first, 0);
    expect(first[0]).toBe(0);
    for (let slot = 0; slot < 24; slot++) expect(isSlotSettled(second, slot)).toBe(slot === 0 || slot === 9);
    const far = withSlotSettled(second, 1000);
    expect(far).toHaveLength(126);
    expect([0, 9, 1000].every((s) => isSlotSettled(far, s))).toBe(true);
    expect(isSlotSettled(far, 999)).toBe(false);
    expect(isSlotSettled(undefined, 0)).toBe(false);
  });

  it('the last slot fits in 64 KiB; out-of-range and fractional slots are refused', () => {
    expect(withSlotSettled(undefined, MAX_RUN_SLOTS - 1)).toHaveLength(64 * 1024);
    for (const bad of [-1, 1.5, MAX_RUN_SLOTS, Number.NaN])
      expect(() => withSlotSettled(undefined, bad)).toThrow(/run slot/);
  });

  it('a lease owner names its run, and only that run (not one whose ID merely starts the same)', () => {
    expect(isOwnedByRun(runLeaseOwner('r1'), 'r1')).toBe(true);
    expect(isOwnedByRun(runLeaseOwner('r1', 'invocation-7'), 'r1')).toBe(true);
    expect(isOwnedByRun(runLeaseOwner('r10', 'invocation-7'), 'r1')).toBe(false);
    expect(isOwnedByRun('some-other-owner', 'r1')).toBe(false);
  });
});
