/**
 * Who counts a queued tenant in its run, once. Every message of a queued run carries a slot (the tenant's position
 * in the plan); the run row keeps one bit per slot, set in the same ETag-guarded write that adds the tenant's
 * outcome to the counters. A redelivered or duplicated message therefore finds its bit set and is not counted
 * again, and no run is marked finished early. Leases name the run that holds them, so a worker that finds a
 * tenant busy can tell its own run's duplicate in flight from another run.
 */
import { CollectorError } from './errors.js';
import { ErrorCode } from './errorCodes.js';

/** A Table binary property holds at most 64 KiB: one bit per slot. */
export const MAX_RUN_SLOTS = 64 * 1024 * 8;

export function assertSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_RUN_SLOTS) {
    throw new CollectorError(`A run slot must be an integer from 0 to ${MAX_RUN_SLOTS - 1}.`, {
      code: ErrorCode.RUN_SLOT_INVALID,
      kind: 'permanent',
    });
  }
}

export function isSlotSettled(bits: Uint8Array | undefined, slot: number): boolean {
  assertSlot(slot);
  const byte = bits?.[slot >> 3];
  return byte !== undefined && (byte & (1 << (slot & 7))) !== 0;
}

/** A copy of `bits` with `slot` set, grown as far as that slot needs (the row stores no more bytes than used). */
export function withSlotSettled(bits: Uint8Array | undefined, slot: number): Uint8Array {
  assertSlot(slot);
  const out = new Uint8Array(Math.max(bits?.length ?? 0, (slot >> 3) + 1));
  if (bits) out.set(bits);
  out[slot >> 3] = (out[slot >> 3] as number) | (1 << (slot & 7));
  return out;
}

/** The lease owner of a collection in run `runId`; `instance` tells its workers apart (the invocation ID). */
export function runLeaseOwner(runId: string, instance?: string): string {
  return instance === undefined ? `run:${runId}` : `run:${runId}/${instance}`;
}

/** Whether a lease owner is a collection of run `runId` (any of its workers). */
export function isOwnedByRun(owner: string, runId: string): boolean {
  const own = runLeaseOwner(runId);
  return owner === own || owner.startsWith(`${own}/`);
}
