/** Tenant lifecycle (design §4, §5, §7) on in-memory fakes: add/verify, re-add, enable/disable, remove. */
import { describe, expect, it } from '@jest/globals';
import { CollectorError, InputError, NotFoundError, type FailureKind } from '../../../shared/domain/errors.js';
import type { TenantStatus } from '../../../shared/ports.js';
import {
  addTenant,
  disableTenant,
  enableTenant,
  removeTenant,
  requireTenant,
} from '../../../shared/usecases/tenants.js';
import { collect } from '../../contracts/ids.js';
import { fakeWorld } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-00000000000e';
const OTHER = '0a1b2c3d-0000-4000-8000-00000000000f';
const incident = { incidentId: '1', lastUpdateTime: '2026-11-20T10:00:00Z', incident: { id: '1' } };

describe('addTenant', () => {
  it('with verification: one token and one probe, then active and consented', async () => {
    const w = fakeWorld();

    const outcome = await addTenant(w, { tenantId: T.toUpperCase(), displayName: 'Contoso', verify: true });

    expect(outcome.failure).toBeUndefined();
    expect(outcome.tenant).toMatchObject({
      tenantId: T,
      displayName: 'Contoso',
      status: 'active',
      consentedAt: w.clock.iso(),
      lastProbeAt: w.clock.iso(),
      consecutiveFailures: 0,
    });
    expect(w.tokens.calls).toEqual([T]);
    expect(w.source.probes).toEqual([T]);
  });

  const failures: [FailureKind, string, TenantStatus][] = [
    ['consent_revoked', 'AADSTS65001', 'pending_consent'],
    ['missing_permissions', 'TOKEN_ROLE_MISSING', 'missing_permissions'],
    ['credential_error', 'AADSTS7000215', 'credential_error'],
    ['transient', 'HTTP_503', 'pending_consent'],
  ];
  it.each(failures)('a new tenant whose verification fails with %s (%s) is stored %s', async (kind, code, status) => {
    const w = fakeWorld();
    w.tokens.failsWith(T, kind, code);

    const outcome = await addTenant(w, { tenantId: T, displayName: 'Contoso', verify: true });

    expect(outcome.failure).toMatchObject({ kind, code });
    expect(await w.tenants.get(T)).toMatchObject({ status, lastErrorCode: code, lastProbeAt: w.clock.iso() });
    expect((await w.tenants.get(T))?.consentedAt).toBeUndefined();
  });

  it('without verification: stored active at once, no token or probe (the first collection verifies)', async () => {
    const w = fakeWorld();

    const { tenant } = await addTenant(w, { tenantId: T, verify: false });

    expect(tenant).toMatchObject({ displayName: T, status: 'active', statusChangedAt: w.clock.iso() });
    expect(w.tokens.calls).toEqual([]);
  });

  it('re-adding keeps the checkpoint and the name unless a new one is given', async () => {
    const w = fakeWorld();
    await addTenant(w, { tenantId: T, displayName: 'Contoso', verify: true });
    await w.tenants.advanceCheckpoint(T, '2026-11-20T10:00:00.1234567Z');

    const again = await addTenant(w, { tenantId: T, verify: true });
    const renamed = await addTenant(w, { tenantId: T, displayName: 'Contoso Ltd', verify: false });

    expect(again.tenant).toMatchObject({ displayName: 'Contoso', checkpoint: '2026-11-20T10:00:00.1234567Z' });
    expect(renamed.tenant).toMatchObject({ displayName: 'Contoso Ltd', checkpoint: '2026-11-20T10:00:00.1234567Z' });
  });

  it('re-adding a disabled tenant keeps it disabled (only the name changes) and verifies nothing', async () => {
    const w = fakeWorld();
    w.tenants.seed({ tenantId: T, displayName: 'Old', status: 'disabled', checkpoint: '2026-11-20T10:00:00Z' });

    const { tenant } = await addTenant(w, { tenantId: T, displayName: 'New', verify: true });

    expect(tenant).toMatchObject({ displayName: 'New', status: 'disabled', checkpoint: '2026-11-20T10:00:00Z' });
    expect(w.tokens.calls).toEqual([]);
  });

  it('a malformed tenant ID is an InputError naming tenantId, and nothing is stored', async () => {
    const w = fakeWorld();
    await expect(addTenant(w, { tenantId: 'contoso', verify: false })).rejects.toMatchObject({ field: 'tenantId' });
    expect(await w.tenants.list()).toEqual([]);
  });
});

describe('disableTenant and enableTenant', () => {
  it('disable stores disabled with the time of the change; disabling again changes nothing', async () => {
    const w = fakeWorld();
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consentedAt: '2026-01-01T00:00:00Z' });

    const disabled = await disableTenant(w, T);
    w.clock.advance(60_000);
    const again = await disableTenant(w, T.toUpperCase());

    expect(disabled).toMatchObject({ status: 'disabled', statusChangedAt: '2026-11-24T12:00:00.000Z' });
    expect(again).toEqual(disabled);
  });

  it('enable re-verifies: a consented tenant that verifies is active again', async () => {
    const w = fakeWorld();
    w.tenants.seed({
      tenantId: T,
      displayName: 'Contoso',
      status: 'disabled',
      consentedAt: '2026-01-01T00:00:00Z',
      checkpoint: '2026-11-20T10:00:00Z',
    });

    const { tenant, failure } = await enableTenant(w, T);

    expect(failure).toBeUndefined();
    expect(tenant).toMatchObject({ status: 'active', checkpoint: '2026-11-20T10:00:00Z', lastProbeAt: w.clock.iso() });
    expect(w.source.probes).toEqual([T]);
  });

  it('enable stores what the verification found: a revoked consent is consent_revoked, never disabled', async () => {
    const w = fakeWorld();
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'disabled', consentedAt: '2026-01-01T00:00:00Z' });
    w.tokens.failsWith(T, 'consent_revoked', 'AADSTS65001');

    const { tenant, failure } = await enableTenant(w, T);

    expect(failure).toMatchObject({ code: 'AADSTS65001' });
    expect(tenant).toMatchObject({ status: 'consent_revoked', lastErrorCode: 'AADSTS65001' });
  });

  it('enable of a never-consented tenant whose verification fails on consent leaves it pending_consent', async () => {
    const w = fakeWorld();
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'disabled' });
    w.tokens.fails(T, new CollectorError('Not consented.', { code: 'AADSTS65001', kind: 'consent_revoked' }));

    const { tenant } = await enableTenant(w, T);

    expect(tenant.status).toBe('pending_consent');
  });
});

describe('removeTenant', () => {
  async function withIncidents() {
    const w = fakeWorld();
    for (const id of [T, OTHER]) {
      w.tenants.seed({ tenantId: id, displayName: id, status: 'active' });
      await w.snapshots.writePage(id, 'graph', [incident]);
    }
    return w;
  }

  it('without purge removes the tenant and keeps its incidents and history', async () => {
    const w = await withIncidents();

    await removeTenant(w, T, false);

    expect(await w.tenants.get(T)).toBeUndefined();
    expect(await collect(w.snapshots.latest({ tenantId: T }))).toHaveLength(1);
    expect(await collect(w.snapshots.history({ tenantId: T }))).toHaveLength(1);
  });

  it('with purge also deletes its incidents and history, and only its own', async () => {
    const w = await withIncidents();

    await removeTenant(w, T.toUpperCase(), true);

    expect(await w.tenants.get(T)).toBeUndefined();
    expect(await collect(w.snapshots.latest({ tenantId: T }))).toEqual([]);
    expect(await collect(w.snapshots.history({ tenantId: T }))).toEqual([]);
    expect(await collect(w.snapshots.latest({ tenantId: OTHER }))).toHaveLength(1);
    expect(await w.tenants.get(OTHER)).toBeDefined();
  });
});

describe('an unknown or malformed tenant', () => {
  it('is NotFoundError for disable, enable, remove and require, and nothing is created or purged', async () => {
    const w = fakeWorld();
    await w.snapshots.writePage(T, 'graph', [incident]);

    await expect(disableTenant(w, T)).rejects.toBeInstanceOf(NotFoundError);
    await expect(enableTenant(w, T)).rejects.toBeInstanceOf(NotFoundError);
    await expect(removeTenant(w, T, true)).rejects.toBeInstanceOf(NotFoundError);
    await expect(requireTenant(w, T)).rejects.toBeInstanceOf(NotFoundError);

    expect(await w.tenants.list()).toEqual([]);
    expect(await collect(w.snapshots.latest({ tenantId: T }))).toHaveLength(1);
    expect(w.tokens.calls).toEqual([]);
  });

  it('is an InputError naming tenantId when the ID is not a GUID', async () => {
    const w = fakeWorld();
    await expect(disableTenant(w, 'x')).rejects.toBeInstanceOf(InputError);
    await expect(removeTenant(w, '../etc', false)).rejects.toMatchObject({ field: 'tenantId' });
  });
});
