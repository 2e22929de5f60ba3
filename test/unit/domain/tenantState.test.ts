import { describe, expect, it } from '@jest/globals';
import { afterFailedProbe, afterFailure, afterSuccess, runDecision } from '../../../shared/domain/tenantState.js';
import type { TenantRecord } from '../../../shared/ports.js';

const now = new Date('2026-11-24T12:00:00Z');
const tenant = (over: Partial<TenantRecord> = {}): TenantRecord => ({
  tenantId: '11111111-1111-1111-1111-111111111111',
  displayName: 'Contoso',
  status: 'active',
  consecutiveFailures: 0,
  consentedAt: '2026-01-01T00:00:00Z',
  ...over,
});

describe('runDecision', () => {
  it('collects active, failing and credential_error tenants, never disabled ones', () => {
    expect(runDecision(tenant(), now, 24)).toBe('collect');
    expect(runDecision(tenant({ status: 'failing' }), now, 24)).toBe('collect');
    expect(runDecision(tenant({ status: 'credential_error' }), now, 24)).toBe('collect');
    expect(runDecision(tenant({ status: 'disabled', statusChangedAt: '2000-01-01T00:00:00Z' }), now, 24)).toBe('skip');
  });

  it('re-probes skipped statuses once REPROBE_HOURS passed since the status change or the last probe', () => {
    for (const status of ['pending_consent', 'consent_revoked', 'missing_permissions'] as const) {
      expect(runDecision(tenant({ status, statusChangedAt: '2026-11-24T00:00:00Z' }), now, 24)).toBe('skip');
      expect(runDecision(tenant({ status, statusChangedAt: '2026-11-23T11:00:00Z' }), now, 24)).toBe('reprobe');
      expect(
        runDecision(
          tenant({ status, statusChangedAt: '2026-11-20T00:00:00Z', lastProbeAt: '2026-11-24T11:00:00Z' }),
          now,
          24,
        ),
      ).toBe('skip');
    }
  });
});

describe('afterFailure', () => {
  it('maps consent, permission and credential failures to their statuses', () => {
    expect(
      afterFailure(tenant(), { kind: 'consent_revoked', code: 'AADSTS700016', message: 'm' }, now, { collected: true })
        .status,
    ).toBe('consent_revoked');
    expect(
      afterFailure(tenant(), { kind: 'missing_permissions', code: 'MISSING_ROLE', message: 'm' }, now, {
        collected: true,
      }).status,
    ).toBe('missing_permissions');
    expect(
      afterFailure(tenant(), { kind: 'credential_error', code: 'TOKEN_TENANT_MISMATCH', message: 'm' }, now, {
        collected: true,
      }).status,
    ).toBe('credential_error');
  });

  it('keeps a never-consented tenant pending_consent instead of consent_revoked', () => {
    const fresh = tenant({ status: 'pending_consent', consentedAt: undefined });
    expect(
      afterFailure(fresh, { kind: 'consent_revoked', code: 'AADSTS65001', message: 'm' }, now, { collected: false })
        .status,
    ).toBe('pending_consent');
    expect(
      afterFailure(fresh, { kind: 'transient', code: 'HTTP_503', message: 'm' }, now, { collected: false }).status,
    ).toBe('pending_consent');
  });

  it('turns failing only after three consecutive transient failures and records the error', () => {
    let t = tenant();
    const statuses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const patch = afterFailure(t, { kind: 'transient', code: 'HTTP_503', message: 'Service unavailable' }, now, {
        collected: true,
      });
      t = { ...t, ...patch } as TenantRecord;
      statuses.push(t.status);
    }
    expect(statuses).toEqual(['active', 'active', 'failing']);
    expect(t.consecutiveFailures).toBe(3);
    expect(t.lastErrorCode).toBe('HTTP_503');
    expect(t.statusChangedAt).toBe(now.toISOString());
  });

  it('success resets failures, clears the error and keeps the first consent time', () => {
    const patch = afterSuccess(tenant({ status: 'failing', consecutiveFailures: 5, lastErrorCode: 'HTTP_500' }), now, {
      collected: true,
    });
    expect(patch).toMatchObject({
      status: 'active',
      consecutiveFailures: 0,
      lastFailedRunId: '',
      lastErrorCode: '',
      lastError: '',
      lastSuccessAt: now.toISOString(),
    });
    expect(patch.consentedAt).toBeUndefined();
    expect(afterSuccess(undefined, now, { collected: false }).consentedAt).toBe(now.toISOString());
  });

  it('a failed probe leaves the status alone', () => {
    expect(afterFailedProbe({ code: 'AADSTS700016', message: 'x' }, now)).toEqual({
      lastProbeAt: now.toISOString(),
      lastErrorCode: 'AADSTS700016',
      lastError: 'x',
    });
  });
});

describe('afterFailure with queue retries', () => {
  it('counts a run once however often its message is retried', () => {
    let t = tenant();
    for (let attempt = 0; attempt < 5; attempt++) {
      t = {
        ...t,
        ...afterFailure(t, { kind: 'transient', code: 'HTTP_503', message: 'm' }, now, {
          collected: true,
          runId: 'run-1',
        }),
      } as TenantRecord;
    }
    expect(t.consecutiveFailures).toBe(1);
    expect(t.status).toBe('active');
    t = {
      ...t,
      ...afterFailure(t, { kind: 'transient', code: 'HTTP_503', message: 'm' }, now, {
        collected: true,
        runId: 'run-2',
      }),
    } as TenantRecord;
    expect(t.consecutiveFailures).toBe(2);
  });
});
