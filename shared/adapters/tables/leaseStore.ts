/**
 * LeaseStore on the `Leases` table (PK `lease`, RK tenant ID): one collector per tenant at a time. Taking a free
 * lease is a create (409 → someone holds it); taking over an expired one, renewing and releasing are
 * ETag-conditional, so of two racing workers exactly one wins (412 → lost → undefined).
 */
import type { TableClient } from '@azure/data-tables';
import type { Clock, Lease, LeaseStore } from '../../ports.js';
import { asString } from './entityValues.js';
import type { TableClients } from './tableClients.js';
import { tenantKey } from './keys.js';
import { hasStatus, toTableError } from './tableErrors.js';

export const LEASE_PARTITION = 'lease';
/** Create → 409 → read → 404 (released meanwhile) can repeat; a few rounds are plenty. */
const MAX_ACQUIRE_ROUNDS = 3;

type Row = Record<string, unknown> & { etag?: string };

export class TableLeaseStore implements LeaseStore {
  private readonly clock: Clock;

  constructor(
    private readonly tables: TableClients,
    options: { clock?: Clock } = {},
  ) {
    this.clock = options.clock ?? { now: () => new Date() };
  }

  private get table(): TableClient {
    return this.tables.client('leases');
  }

  private lease(tenantId: string, owner: string, durationMs: number): Lease {
    return { tenantId, owner, expiresAt: new Date(this.clock.now().getTime() + durationMs).toISOString() };
  }

  private async read(key: string): Promise<Row | undefined> {
    try {
      return await this.table.getEntity<Row>(LEASE_PARTITION, key);
    } catch (error) {
      if (hasStatus(error, 404)) return undefined;
      throw toTableError(error, 'read lease');
    }
  }

  /** ETag-conditional replace; false when another writer got there first. */
  private async replace(key: string, lease: Lease, etag: string): Promise<boolean> {
    try {
      await this.table.updateEntity(
        { partitionKey: LEASE_PARTITION, rowKey: key, owner: lease.owner, expiresAt: lease.expiresAt },
        'Replace',
        { etag },
      );
      return true;
    } catch (error) {
      if (hasStatus(error, 412, 404)) return false;
      throw toTableError(error, 'update lease');
    }
  }

  async acquire(tenantId: string, owner: string, durationMs: number): Promise<Lease | undefined> {
    const key = tenantKey(tenantId);
    for (let round = 0; round < MAX_ACQUIRE_ROUNDS; round++) {
      const lease = this.lease(key, owner, durationMs);
      try {
        await this.table.createEntity({
          partitionKey: LEASE_PARTITION,
          rowKey: key,
          owner,
          expiresAt: lease.expiresAt,
        });
        return lease;
      } catch (error) {
        if (!hasStatus(error, 409)) throw toTableError(error, 'create lease');
      }
      const row = await this.read(key);
      if (!row) continue;
      const heldByOther =
        asString(row.owner) !== owner && Date.parse(asString(row.expiresAt)) > this.clock.now().getTime();
      if (heldByOther) return undefined;
      return (await this.replace(key, lease, asString(row.etag))) ? lease : undefined;
    }
    return undefined;
  }

  async holder(tenantId: string): Promise<string | undefined> {
    const row = await this.read(tenantKey(tenantId));
    if (!row || Date.parse(asString(row.expiresAt)) <= this.clock.now().getTime()) return undefined;
    return asString(row.owner);
  }

  async renew(lease: Lease, durationMs: number): Promise<Lease | undefined> {
    const key = tenantKey(lease.tenantId);
    const row = await this.read(key);
    if (!row || asString(row.owner) !== lease.owner) return undefined;
    const renewed = this.lease(key, lease.owner, durationMs);
    return (await this.replace(key, renewed, asString(row.etag))) ? renewed : undefined;
  }

  async release(lease: Lease): Promise<void> {
    const key = tenantKey(lease.tenantId);
    const row = await this.read(key);
    if (!row || asString(row.owner) !== lease.owner) return;
    try {
      await this.table.deleteEntity(LEASE_PARTITION, key, { etag: asString(row.etag) });
    } catch (error) {
      // Taken over or already gone: nothing of ours left to release.
      if (!hasStatus(error, 404, 412)) throw toTableError(error, 'release lease');
    }
  }
}
