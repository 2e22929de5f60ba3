/**
 * LeaseStore on the `Leases` table (PK `lease`, RK tenant ID): one collector per tenant at a time. Taking a free
 * lease is a create (409 → someone holds it); taking over an expired one, renewing and releasing are
 * ETag-conditional, so of two racing workers exactly one wins (412 → lost → undefined).
 *
 * Round trips: the store remembers the ETag of each lease row it last wrote (per tenant, with the owner and expiry
 * written), so renewing and releasing a lease this store took cost one conditional request instead of a read and a
 * write. A remembered ETag that no longer matches (412: another writer, or another store instance, changed the row)
 * is simply stale: the store then reads the row and decides as before, so no lease is ever renewed or deleted
 * for an owner that does not hold it.
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

/** A lease row as this store last wrote it. */
interface Written {
  readonly owner: string;
  readonly expiresAt: string;
  readonly etag: string;
}

export class TableLeaseStore implements LeaseStore {
  private readonly clock: Clock;
  /** Per tenant key: the row this store last wrote (forgotten on release and on any failed conditional write). */
  private readonly written = new Map<string, Written>();

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

  private remember(key: string, lease: Lease, etag: string | undefined): void {
    if (etag === undefined) this.written.delete(key);
    else this.written.set(key, { owner: lease.owner, expiresAt: lease.expiresAt, etag });
  }

  /** The remembered ETag of `lease`'s row, when this store wrote exactly that lease last. */
  private rememberedEtag(key: string, lease: Lease): string | undefined {
    const w = this.written.get(key);
    return w && w.owner === lease.owner && w.expiresAt === lease.expiresAt ? w.etag : undefined;
  }

  /** ETag-conditional replace; false when another writer got there first. */
  private async replace(key: string, lease: Lease, etag: string): Promise<boolean> {
    try {
      const response = await this.table.updateEntity(
        { partitionKey: LEASE_PARTITION, rowKey: key, owner: lease.owner, expiresAt: lease.expiresAt },
        'Replace',
        { etag },
      );
      this.remember(key, lease, response.etag);
      return true;
    } catch (error) {
      this.written.delete(key);
      if (hasStatus(error, 412, 404)) return false;
      throw toTableError(error, 'update lease');
    }
  }

  async acquire(tenantId: string, owner: string, durationMs: number): Promise<Lease | undefined> {
    const key = tenantKey(tenantId);
    for (let round = 0; round < MAX_ACQUIRE_ROUNDS; round++) {
      const lease = this.lease(key, owner, durationMs);
      try {
        const response = await this.table.createEntity({
          partitionKey: LEASE_PARTITION,
          rowKey: key,
          owner,
          expiresAt: lease.expiresAt,
        });
        this.remember(key, lease, response.etag);
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
    const remembered = this.rememberedEtag(key, lease);
    if (remembered !== undefined) {
      const renewed = this.lease(key, lease.owner, durationMs);
      if (await this.replace(key, renewed, remembered)) return renewed;
      // Stale memory or lost: read and decide below.
    }
    const row = await this.read(key);
    if (!row || asString(row.owner) !== lease.owner) return undefined;
    const renewed = this.lease(key, lease.owner, durationMs);
    return (await this.replace(key, renewed, asString(row.etag))) ? renewed : undefined;
  }

  async release(lease: Lease): Promise<void> {
    const key = tenantKey(lease.tenantId);
    const remembered = this.rememberedEtag(key, lease);
    this.written.delete(key);
    if (remembered !== undefined) {
      const outcome = await this.deleteIfMatch(key, remembered);
      if (outcome !== 'changed') return;
      // The row changed since this store wrote it: read and decide below.
    }
    const row = await this.read(key);
    if (!row || asString(row.owner) !== lease.owner) return;
    await this.deleteIfMatch(key, asString(row.etag));
  }

  /** Delete the row if it still has `etag`: 'deleted', 'gone' (404) or 'changed' (412). */
  private async deleteIfMatch(key: string, etag: string): Promise<'deleted' | 'gone' | 'changed'> {
    try {
      await this.table.deleteEntity(LEASE_PARTITION, key, { etag });
      return 'deleted';
    } catch (error) {
      // Taken over or already gone: nothing of ours left to release.
      if (hasStatus(error, 404)) return 'gone';
      if (hasStatus(error, 412)) return 'changed';
      throw toTableError(error, 'release lease');
    }
  }
}
