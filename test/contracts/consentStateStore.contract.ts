/** The ConsentStateStore behaviours consent relies on: consumed exactly once, expired states pruned in bounds. */
import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import type { ConsentStateStore } from '../../shared/ports.js';
import { newTenantId } from './ids.js';

const newState = (): string => randomBytes(32).toString('base64url');

/** Register the ConsentStateStore contract's tests; `store` returns the store under test (shared by the tests). */
export function consentStateStoreContract(name: string, store: () => ConsentStateStore): void {
  describe(`ConsentStateStore contract: ${name}`, () => {
    it('consume returns the saved record once, then undefined; an unknown state is undefined', async () => {
      const state = newState();
      const tenantId = newTenantId();
      const record = {
        tenantId,
        displayName: 'Contoso',
        createdAt: '2026-11-24T12:00:00.000Z',
        expiresAt: '2026-11-25T12:00:00.000Z',
      };
      await store().save(state, record);
      expect(await store().consume(state)).toEqual(record);
      expect(await store().consume(state)).toBeUndefined();
      expect(await store().consume(newState())).toBeUndefined();
    });

    it('the consented source of a Graph link (sources check) round-trips', async () => {
      const state = newState();
      const record = {
        tenantId: newTenantId(),
        source: 'graph' as const,
        createdAt: '2026-11-24T12:00:00.000Z',
        expiresAt: '2026-11-25T12:00:00.000Z',
      };
      await store().save(state, record);
      expect(await store().consume(state)).toEqual(record);
    });

    it('a record without a tenant (an organizations link) round-trips without one', async () => {
      const state = newState();
      await store().save(state, { createdAt: '2026-11-24T12:00:00.000Z', expiresAt: '2026-11-25T12:00:00.000Z' });
      expect(await store().consume(state)).toEqual({
        createdAt: '2026-11-24T12:00:00.000Z',
        expiresAt: '2026-11-25T12:00:00.000Z',
      });
    });

    it('of concurrent consumes exactly one gets the record', async () => {
      const state = newState();
      await store().save(state, { createdAt: '2026-11-24T12:00:00.000Z', expiresAt: '2026-11-25T12:00:00.000Z' });
      const got = await Promise.all(Array.from({ length: 8 }, () => store().consume(state)));
      expect(got.filter((r) => r !== undefined)).toHaveLength(1);
    });

    it('deleteExpired deletes only states expired before now, at most limit per call', async () => {
      // Every other test of this contract consumes its states, so these are the only ones left to prune.
      const at = (day: number) => `2999-01-${String(day).padStart(2, '0')}T00:00:00.000Z`;
      const expired = [newState(), newState(), newState()];
      const live = newState();
      for (const s of expired) await store().save(s, { createdAt: at(1), expiresAt: at(2) });
      await store().save(live, { createdAt: at(1), expiresAt: at(20) });
      expect(await store().deleteExpired(at(10), 2)).toBe(2);
      expect(await store().deleteExpired(at(10), 2)).toBe(1);
      expect(await store().deleteExpired(at(10), 2)).toBe(0);
      for (const s of expired) expect(await store().consume(s)).toBeUndefined();
      expect(await store().consume(live)).toBeDefined();
    });
  });
}
