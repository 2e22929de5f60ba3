/**
 * The TenantStore behaviours the core relies on (collectTenant, tenants, consent), run against the in-memory fake
 * (test/unit/contracts) and the Table adapter on Azurite (test/integration/tables/contracts.test.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '../../shared/domain/errorCodes.js';
import { NotFoundError } from '../../shared/domain/errors.js';
import type { TenantStore } from '../../shared/ports.js';
import { newTenantId } from './ids.js';

/** Register the TenantStore contract's tests; `store` returns the store under test (shared by the tests). */
export function tenantStoreContract(name: string, store: () => TenantStore): void {
  describe(`TenantStore contract: ${name}`, () => {
    it('upsert creates a pending_consent tenant with 0 failures, keyed lower case, without a checkpoint', async () => {
      const id = newTenantId().toUpperCase();
      const created = await store().upsert(id, { displayName: 'Contoso' });
      expect(created).toEqual({
        tenantId: id.toLowerCase(),
        displayName: 'Contoso',
        status: 'pending_consent',
        consecutiveFailures: 0,
      });
      expect(await store().get(id.toLowerCase())).toEqual(created);
      expect((await store().list()).map((t) => t.tenantId)).toContain(id.toLowerCase());
    });

    it('upsert and update merge into the row and never write the checkpoint, whatever the patch carries', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'Contoso', status: 'active' });
      await store().advanceCheckpoint(id, '2026-11-20T10:00:00.1234567Z');
      const sneaky = { checkpoint: '1999-01-01T00:00:00Z', watermark: '1999-01-01T00:00:00Z' } as object;
      const merged = await store().upsert(id, { status: 'failing', consecutiveFailures: 3, ...sneaky });
      expect(merged).toMatchObject({
        displayName: 'Contoso',
        status: 'failing',
        consecutiveFailures: 3,
        checkpoint: '2026-11-20T10:00:00.1234567Z',
      });
      const updated = await store().update(id, { lastErrorCode: 'HTTP_503', ...sneaky });
      expect(updated).toMatchObject({ status: 'failing', lastErrorCode: 'HTTP_503', checkpoint: merged.checkpoint });
    });

    it("a cleared optional column ('') reads back as absent", async () => {
      const id = newTenantId();
      await store().upsert(id, {
        displayName: 'x',
        lastErrorCode: 'HTTP_503',
        lastError: 'boom',
        lastFailedRunId: 'r1',
      });
      const cleared = await store().update(id, { lastErrorCode: '', lastError: '', lastFailedRunId: '' });
      expect(cleared.lastErrorCode).toBeUndefined();
      expect(cleared.lastError).toBeUndefined();
      expect(cleared.lastFailedRunId).toBeUndefined();
      expect('lastErrorCode' in ((await store().get(id)) ?? {})).toBe(false);
    });

    it("the tenant's own source is stored, kept by other patches, and cleared by '' (issue 14)", async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'Contoso', status: 'active' });
      expect((await store().get(id))?.source).toBeUndefined();
      expect((await store().update(id, { source: 'm365d' })).source).toBe('m365d');
      expect((await store().update(id, { lastErrorCode: 'HTTP_503' })).source).toBe('m365d');
      expect(
        (await store().update(id, { source: 'graph', consentLinkExpiresAt: '2026-12-29T00:00:00.000Z' })).source,
      ).toBe('graph');
      const cleared = await store().update(id, { source: '' });
      expect(cleared.source).toBeUndefined();
      expect(cleared.consentLinkExpiresAt).toBe('2026-12-29T00:00:00.000Z');
    });

    it('patch merges like update without answering the record, and never writes the checkpoint', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'Contoso', status: 'active' });
      await store().advanceCheckpoint(id, '2026-11-20T00:00:00Z');
      expect(await store().patch(id, { status: 'failing', lastErrorCode: 'HTTP_503' })).toBeUndefined();
      expect(await store().get(id)).toMatchObject({
        status: 'failing',
        lastErrorCode: 'HTTP_503',
        checkpoint: '2026-11-20T00:00:00Z',
      });
      // The checkpoint still moves forward after a patch (a store that remembers ETags must not trip over its own).
      expect(await store().advanceCheckpoint(id, '2026-11-21T00:00:00Z')).toBe('2026-11-21T00:00:00Z');
    });

    it('update, patch and advanceCheckpoint of an unknown tenant throw NotFoundError and create nothing', async () => {
      const id = newTenantId();
      await expect(store().update(id, { status: 'active' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store().patch(id, { status: 'active' })).rejects.toBeInstanceOf(NotFoundError);
      await expect(store().advanceCheckpoint(id, '2026-11-20T00:00:00Z')).rejects.toBeInstanceOf(NotFoundError);
      expect(await store().get(id)).toBeUndefined();
    });

    it('advanceCheckpoint only moves forward, comparing instants at full precision across forms', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'x' });
      expect(await store().advanceCheckpoint(id, '2026-11-20T10:00:00.1234567Z')).toBe('2026-11-20T10:00:00.1234567Z');
      // Earlier by 100 ns, and the same instant written with fewer digits: both keep the stored value.
      expect(await store().advanceCheckpoint(id, '2026-11-20T10:00:00.1234566Z')).toBe('2026-11-20T10:00:00.1234567Z');
      expect(await store().advanceCheckpoint(id, '2026-11-20T10:00:00.123Z')).toBe('2026-11-20T10:00:00.1234567Z');
      // Later as an instant though it sorts earlier as text (another zone).
      expect(await store().advanceCheckpoint(id, '2026-11-20T11:00:00.5+01:00')).toBe('2026-11-20T11:00:00.5+01:00');
      expect((await store().get(id))?.checkpoint).toBe('2026-11-20T11:00:00.5+01:00');
    });

    it('advanceCheckpoint rejects a value that is not an instant and leaves the checkpoint alone', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'x' });
      await store().advanceCheckpoint(id, '2026-11-20T10:00:00Z');
      await expect(store().advanceCheckpoint(id, 'not a time')).rejects.toThrow();
      expect((await store().get(id))?.checkpoint).toBe('2026-11-20T10:00:00Z');
    });

    it('concurrent advances with shuffled values end at the latest', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'x' });
      const values = [5, 1, 9, 3, 7, 2, 8].map((n) => `2026-11-20T10:00:0${n}.0000001Z`);
      await Promise.all(values.map((v) => store().advanceCheckpoint(id, v)));
      expect((await store().get(id))?.checkpoint).toBe('2026-11-20T10:00:09.0000001Z');
    });

    it('a tenant ID that cannot be a table key is refused with TABLE_INVALID_KEY', async () => {
      await expect(store().get('a/b')).rejects.toMatchObject({ code: ErrorCode.TABLE_INVALID_KEY, kind: 'permanent' });
      await expect(store().upsert('a#b', { displayName: 'x' })).rejects.toMatchObject({
        code: ErrorCode.TABLE_INVALID_KEY,
      });
    });

    it('delete removes the tenant and is idempotent', async () => {
      const id = newTenantId();
      await store().upsert(id, { displayName: 'x' });
      await store().delete(id.toUpperCase());
      await store().delete(id);
      expect(await store().get(id)).toBeUndefined();
      expect((await store().list()).map((t) => t.tenantId)).not.toContain(id);
    });
  });
}
