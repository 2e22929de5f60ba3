/**
 * The LeaseStore behaviours collectTenant and the queue worker rely on: one holder at a time, expiry on the injected
 * clock, renew/release only by the current owner.
 */
import { describe, expect, it } from '@jest/globals';
import type { LeaseStore } from '../../shared/ports.js';
import type { ManualClock } from '../fakes/clock.js';
import { newTenantId } from './ids.js';

/** Register the LeaseStore contract's tests; `setup` returns the store and the manual clock it stamps leases with. */
export function leaseStoreContract(name: string, setup: () => { store: LeaseStore; clock: ManualClock }): void {
  describe(`LeaseStore contract: ${name}`, () => {
    it('a free lease is taken; another owner is refused while it is unexpired; holder names the owner', async () => {
      const { store, clock } = setup();
      const id = newTenantId();
      const lease = await store.acquire(id, 'a', 60_000);
      expect(lease).toEqual({
        tenantId: id,
        owner: 'a',
        expiresAt: new Date(clock.now().getTime() + 60_000).toISOString(),
      });
      expect(await store.acquire(id, 'b', 60_000)).toBeUndefined();
      expect(await store.holder(id.toUpperCase())).toBe('a');
    });

    it('the owner may take its own lease again (a retried acquire)', async () => {
      const { store } = setup();
      const id = newTenantId();
      await store.acquire(id, 'a', 60_000);
      expect(await store.acquire(id, 'a', 60_000)).toMatchObject({ owner: 'a' });
    });

    it('of concurrent acquires for one tenant exactly one wins', async () => {
      const { store } = setup();
      const id = newTenantId();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.acquire(id, `w${i}`, 60_000)));
      expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    });

    it('an expired lease has no holder and is taken over; the old owner can then neither renew nor release it', async () => {
      const { store, clock } = setup();
      const id = newTenantId();
      const old = await store.acquire(id, 'old', 1_000);
      clock.advance(1_000);
      expect(await store.holder(id)).toBeUndefined();
      const taken = await store.acquire(id, 'new', 60_000);
      expect(taken?.owner).toBe('new');
      expect(await store.renew(old!, 60_000)).toBeUndefined();
      await store.release(old!);
      expect(await store.holder(id)).toBe('new');
    });

    it('renew extends from now on the clock; an expired lease nobody took is still renewable by its owner', async () => {
      const { store, clock } = setup();
      const id = newTenantId();
      const lease = await store.acquire(id, 'a', 1_000);
      clock.advance(5_000);
      const renewed = await store.renew(lease!, 120_000);
      expect(renewed).toEqual({
        tenantId: id,
        owner: 'a',
        expiresAt: new Date(clock.now().getTime() + 120_000).toISOString(),
      });
      expect(await store.holder(id)).toBe('a');
    });

    it('release frees the lease for anyone; renewing a released lease fails', async () => {
      const { store } = setup();
      const id = newTenantId();
      const lease = await store.acquire(id, 'a', 60_000);
      await store.release(lease!);
      expect(await store.holder(id)).toBeUndefined();
      expect(await store.renew(lease!, 60_000)).toBeUndefined();
      expect(await store.acquire(id, 'b', 60_000)).toMatchObject({ owner: 'b' });
      await store.release(lease!); // not the owner any more: a no-op
      expect(await store.holder(id)).toBe('b');
    });

    it('an unknown tenant has no holder', async () => {
      const { store } = setup();
      expect(await store.holder(newTenantId())).toBeUndefined();
    });
  });
}
