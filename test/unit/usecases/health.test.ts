/** Health (design §11) against the in-memory fakes: each rule that makes it unhealthy or degraded, on an injected clock. */
import { describe, expect, it } from '@jest/globals';
import type { RunRecord, TenantRecord } from '../../../shared/ports.js';
import { checkHealth, coverageOf, registeredAt, type HealthDeps } from '../../../shared/usecases/health.js';
import { newRunRecord } from '../../../shared/usecases/runCollection.js';
import { fakeWorld } from '../../fakes/index.js';

const MIN = 60_000;
const A = 'a0000000-0000-4000-8000-00000000000a';
const B = 'a0000000-0000-4000-8000-00000000000b';
const C = 'a0000000-0000-4000-8000-00000000000c';

function setup(extra: Partial<HealthDeps> = {}) {
  const w = fakeWorld({ start: '2026-11-24T12:00:00.000Z' });
  const deps: HealthDeps = {
    runs: w.runs,
    tenants: w.tenants,
    clock: w.clock,
    logger: w.logger,
    defaultSource: 'graph',
    staleAfterMinutes: 150,
    ...extra,
  };
  /** A run started `minutesAgo` ago that took one minute, with outcome counts. */
  const finishedRun = async (minutesAgo: number, patch: Partial<RunRecord> = {}): Promise<RunRecord> => {
    const startedAt = new Date(w.clock.now().getTime() - minutesAgo * MIN).toISOString();
    const run = {
      ...newRunRecord({ runId: `run-${minutesAgo}`, startedAt, trigger: 'schedule', tenantsPlanned: 3 }),
      tenantsOk: 2,
      tenantsFailed: 1,
      ...patch,
    };
    await w.runs.create(run);
    if (patch.credentialFailure) await w.runs.markCredentialFailure(run.runId, startedAt, patch.credentialFailure);
    const finishedAt = new Date(Date.parse(startedAt) + MIN).toISOString();
    await w.runs.finish(run.runId, startedAt, finishedAt);
    return { ...run, finishedAt };
  };
  const tenant = (id: string, patch: Partial<TenantRecord>) =>
    w.tenants.seed({ tenantId: id, displayName: `Name of ${id}`, status: 'active', ...patch });
  const codes = async () => (await checkHealth(deps)).problems.map((p) => p.code);
  return { w, deps, finishedRun, tenant, codes };
}

describe('checkHealth (design §11)', () => {
  it('healthy: a fresh run, every tenant collected in time; the report has the contract shape', async () => {
    const { w, deps, finishedRun, tenant } = setup();
    const run = await finishedRun(30);
    const recent = new Date(w.clock.now().getTime() - 31 * MIN).toISOString();
    tenant(A, { lastSuccessAt: recent, consentedAt: recent });
    tenant(B, { lastSuccessAt: recent, consentedAt: recent });
    tenant(C, { status: 'disabled' });

    const report = await checkHealth(deps);

    expect(report).toEqual({
      status: 'healthy',
      checkedAt: '2026-11-24T12:00:00.000Z',
      lastRun: { runId: run.runId, startedAt: run.startedAt, finishedAt: run.finishedAt, ok: 2, failed: 1, skipped: 0 },
      tenants: {
        pending_consent: 0,
        active: 2,
        consent_revoked: 0,
        missing_permissions: 0,
        credential_error: 0,
        disabled: 1,
        failing: 0,
      },
      coverage: 1,
      problems: [],
    });
    expect(JSON.stringify(report)).not.toMatch(/a0000000|Name of/);
  });

  it('unhealthy RUN_STALE once the newest finished run is older than STALE_AFTER_MINUTES (moved clock)', async () => {
    const { w, finishedRun, codes, deps } = setup();
    await finishedRun(100); // finished 99 minutes ago
    expect(await codes()).toEqual([]);
    w.clock.advance(51 * MIN); // 150 minutes: not yet older
    expect(await codes()).toEqual([]);
    w.clock.advance(1);
    const report = await checkHealth(deps);
    expect(report.status).toBe('unhealthy');
    expect(report.problems[0]).toEqual({
      code: 'RUN_STALE',
      message: expect.stringContaining('STALE_AFTER_MINUTES (150 minutes)'),
    });
  });

  it('no run yet: degraded NO_RUN_YET while tenants are young, unhealthy RUN_OVERDUE once one is older than the limit', async () => {
    const { w, tenant, codes, deps } = setup({ staleAfterMinutes: 60 });
    expect(await codes()).toEqual(['NO_RUN_YET']);
    expect((await checkHealth(deps)).status).toBe('degraded');
    tenant(A, { status: 'pending_consent', statusChangedAt: w.clock.iso() });
    w.clock.advance(60 * MIN);
    expect(await codes()).toEqual(['NO_RUN_YET']);
    w.clock.advance(1);
    expect(await codes()).toEqual(['RUN_OVERDUE']);
    expect((await checkHealth(deps)).status).toBe('unhealthy');
  });

  it('no finished run found: a disabled tenant registered long ago counts too (RUN_OVERDUE)', async () => {
    const { tenant, codes, deps } = setup({ staleAfterMinutes: 60 });
    tenant(B, { status: 'disabled', statusChangedAt: '2020-01-01T00:00:00.000Z' });
    expect(await codes()).toEqual(['RUN_OVERDUE']);
    expect((await checkHealth(deps)).status).toBe('unhealthy');
  });

  it('no finished run in the look-back but a tenant records an old run: unhealthy RUN_STALE; a recent one is a run in progress', async () => {
    const { w, tenant, codes, deps } = setup({ staleAfterMinutes: 60 });
    const now = w.clock.now().getTime();
    tenant(A, { lastRunAt: new Date(now - 30 * MIN).toISOString() }); // the first run, still going
    expect(await codes()).toEqual(['NO_RUN_YET']);
    tenant(B, {
      lastRunAt: new Date(now - 8 * 24 * 60 * MIN).toISOString(),
      statusChangedAt: new Date(now - 9 * 24 * 60 * MIN).toISOString(),
    });
    w.clock.advance(31 * MIN); // A's run is now 61 minutes old too
    const report = await checkHealth(deps);
    expect(report.status).toBe('unhealthy');
    expect(report.problems.map((p) => p.code)).toEqual(['RUN_STALE']);
    expect(report.problems[0]?.message).toContain('61 minutes ago');
  });

  it('unhealthy PARTNER_CREDENTIAL_REJECTED from the run row, or from tenants the newest run marked with a partner code', async () => {
    const fromRun = setup();
    await fromRun.finishedRun(5, { credentialFailure: 'AADSTS7000222' });
    const report = await checkHealth(fromRun.deps);
    expect(report.status).toBe('unhealthy');
    expect(report.problems[0]?.code).toBe('PARTNER_CREDENTIAL_REJECTED');
    expect(report.problems[0]?.message).toContain('AADSTS7000222');

    const fromTenants = setup();
    const run = await fromTenants.finishedRun(5);
    fromTenants.tenant(A, { status: 'credential_error', lastErrorCode: 'AADSTS7000215', lastFailedRunId: run.runId });
    expect(await fromTenants.codes()).toEqual(['PARTNER_CREDENTIAL_REJECTED', 'TENANTS_CREDENTIAL_ERROR']);

    // The same code from an older run, or a tenant-specific credential_error code, is not the partner credential now.
    const older = setup();
    await older.finishedRun(5);
    older.tenant(A, { status: 'credential_error', lastErrorCode: 'AADSTS7000215', lastFailedRunId: 'run-older' });
    older.tenant(B, { status: 'credential_error', lastErrorCode: 'TOKEN_TENANT_MISMATCH', lastFailedRunId: 'run-5' });
    expect(await older.codes()).toEqual(['TENANTS_CREDENTIAL_ERROR']);
    expect((await checkHealth(older.deps)).status).toBe('degraded');
  });

  it('unhealthy STORAGE_UNAVAILABLE when a table cannot be read, with nothing else claimed', async () => {
    const { w, deps } = setup();
    w.runs.faults.inject('lastFinished', new Error('ECONNREFUSED 127.0.0.1:10002'));
    const report = await checkHealth(deps);
    expect(report).toEqual({
      status: 'unhealthy',
      checkedAt: w.clock.iso(),
      lastRun: null,
      tenants: {},
      coverage: null,
      problems: [{ code: 'STORAGE_UNAVAILABLE', message: expect.stringContaining('AzureWebJobsStorage') }],
    });
    expect(w.logger.events.map((e) => e.event)).toContain('health.storage_failed');
  });

  it('degraded per tenant status that needs someone, counted, never named', async () => {
    const { finishedRun, tenant, deps } = setup();
    await finishedRun(5);
    tenant(A, { status: 'failing', consecutiveFailures: 4 });
    tenant(B, { status: 'consent_revoked' });
    tenant(C, { status: 'missing_permissions' });
    tenant('a0000000-0000-4000-8000-00000000000d', { status: 'failing' });
    const report = await checkHealth(deps);
    expect(report.status).toBe('degraded');
    expect(report.problems.map((p) => p.code)).toEqual([
      'TENANTS_CONSENT_REVOKED',
      'TENANTS_MISSING_PERMISSIONS',
      'TENANTS_FAILING',
    ]);
    expect(report.problems[2]?.message).toMatch(/^2 tenants failed several runs in a row/);
    expect(JSON.stringify(report)).not.toMatch(/a0000000|Name of/);
  });

  it('dead letters: degraded with a count from delivery, nothing when absent or zero, DELIVERY_STATUS_UNKNOWN when it fails', async () => {
    const run = async (deliveryHealth?: HealthDeps['deliveryHealth']) => {
      const s = setup(deliveryHealth ? { deliveryHealth } : {});
      await s.finishedRun(5);
      return checkHealth(s.deps);
    };
    expect((await run()).problems).toEqual([]);
    expect((await run(async () => ({ deadLetteredLast24h: 0 }))).status).toBe('healthy');
    const dead = await run(async () => ({ deadLetteredLast24h: 3 }));
    expect(dead.status).toBe('degraded');
    expect(dead.problems).toEqual([
      {
        code: 'EVENTS_DEAD_LETTERED',
        message: expect.stringMatching(/^3 events were dead-lettered in the last 24 hours/),
      },
    ]);
    const failed = await run(async () => {
      throw new Error('table down');
    });
    expect(failed.problems.map((p) => p.code)).toEqual(['DELIVERY_STATUS_UNKNOWN']);
  });

  it('keeps the credential expiry problems of the recorded credential (unknown expiry alone stays healthy)', async () => {
    const { finishedRun, deps } = setup();
    await finishedRun(5, {
      credential: { kind: 'secret', name: 'partner-client-secret', version: 'v1', checkedAt: '2026-11-24T11:55:00Z' },
    });
    const unknown = await checkHealth(deps);
    expect(unknown.status).toBe('healthy');
    expect(unknown.problems.map((p) => p.code)).toEqual(['CREDENTIAL_EXPIRY_UNKNOWN']);

    const expiring = setup();
    await expiring.finishedRun(5, {
      credential: {
        kind: 'secret',
        version: 'v2',
        expiresOn: '2026-12-10T00:00:00.000Z',
        checkedAt: '2026-11-24T11:55:00Z',
      },
    });
    const report = await checkHealth(expiring.deps);
    expect(report.status).toBe('degraded');
    expect(report.problems.map((p) => p.code)).toEqual(['CREDENTIAL_EXPIRING']);
  });

  it('orders problems worst first: unhealthy, then degraded, then informational', async () => {
    const { w, finishedRun, tenant, codes } = setup();
    await finishedRun(5, {
      credential: { kind: 'secret', name: 'x', version: 'v1', checkedAt: '2026-11-24T11:55:00Z' },
    });
    tenant(A, { status: 'failing' });
    w.clock.advance(200 * MIN);
    expect(await codes()).toEqual(['RUN_STALE', 'TENANTS_FAILING', 'CREDENTIAL_EXPIRY_UNKNOWN']);
  });
});

describe('coverage and registration time', () => {
  const now = Date.parse('2026-11-24T12:00:00.000Z');
  const t = (status: TenantRecord['status'], lastSuccessMinutesAgo?: number): TenantRecord => ({
    tenantId: `${status}-${lastSuccessMinutesAgo ?? 'never'}`,
    displayName: '',
    status,
    consecutiveFailures: 0,
    ...(lastSuccessMinutesAgo !== undefined
      ? { lastSuccessAt: new Date(now - lastSuccessMinutesAgo * MIN).toISOString() }
      : {}),
  });

  it('is the share of collectable tenants that succeeded within the limit, rounded down; null with none', () => {
    const stale = 150 * MIN;
    expect(coverageOf([], now, stale)).toBeNull();
    expect(coverageOf([t('disabled', 1), t('pending_consent'), t('consent_revoked', 1)], now, stale)).toBeNull();
    expect(coverageOf([t('active'), t('failing')], now, stale)).toBe(0);
    expect(
      coverageOf([t('active', 150), t('failing', 151), t('credential_error', 10), t('disabled')], now, stale),
    ).toBe(0.6666);
    const many = [...Array.from({ length: 9_999 }, () => t('active', 1)), t('active', 999)];
    expect(coverageOf(many, now, stale)).toBe(0.9999);
  });

  it('registeredAt is the earliest time the row carries, undefined with none', () => {
    expect(registeredAt(t('active'))).toBeUndefined();
    expect(
      registeredAt({
        ...t('active'),
        consentedAt: '2026-11-20T00:00:00Z',
        statusChangedAt: '2026-11-19T00:00:00Z',
        lastRunAt: 'garbage',
      }),
    ).toBe(Date.parse('2026-11-19T00:00:00Z'));
  });
});
