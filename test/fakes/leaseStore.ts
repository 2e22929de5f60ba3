/**
 * In-memory LeaseStore, faithful to TableLeaseStore: one row per tenant; acquire succeeds when the row is absent,
 * expired (on the injected clock) or already this owner's; renew and release need the row to still name the
 * lease's owner (renew does not look at expiry: an expired lease nobody took over is still renewable); holder is
 * the owner of an unexpired row.
 */
import { tenantKey } from '../../shared/adapters/tables/keys.js';
import type { Clock, Lease, LeaseStore } from '../../shared/ports.js';
import { Faults } from './journal.js';

export class FakeLeaseStore implements LeaseStore {
  private readonly rows = new Map<string, { owner: string; expiresAt: string }>();
  readonly faults = new Faults();

  constructor(private readonly clock: Clock) {}

  private lease(key: string, owner: string, durationMs: number): Lease {
    return { tenantId: key, owner, expiresAt: new Date(this.clock.now().getTime() + durationMs).toISOString() };
  }

  async acquire(tenantId: string, owner: string, durationMs: number): Promise<Lease | undefined> {
    this.faults.check('acquire');
    const key = tenantKey(tenantId);
    const row = this.rows.get(key);
    if (row && row.owner !== owner && Date.parse(row.expiresAt) > this.clock.now().getTime()) return undefined;
    const lease = this.lease(key, owner, durationMs);
    this.rows.set(key, { owner, expiresAt: lease.expiresAt });
    return lease;
  }

  async renew(lease: Lease, durationMs: number): Promise<Lease | undefined> {
    this.faults.check('renew');
    const key = tenantKey(lease.tenantId);
    const row = this.rows.get(key);
    if (!row || row.owner !== lease.owner) return undefined;
    const renewed = this.lease(key, lease.owner, durationMs);
    this.rows.set(key, { owner: lease.owner, expiresAt: renewed.expiresAt });
    return renewed;
  }

  async release(lease: Lease): Promise<void> {
    this.faults.check('release');
    const key = tenantKey(lease.tenantId);
    if (this.rows.get(key)?.owner === lease.owner) this.rows.delete(key);
  }

  async holder(tenantId: string): Promise<string | undefined> {
    this.faults.check('holder');
    const row = this.rows.get(tenantKey(tenantId));
    if (!row || Date.parse(row.expiresAt) <= this.clock.now().getTime()) return undefined;
    return row.owner;
  }
}
