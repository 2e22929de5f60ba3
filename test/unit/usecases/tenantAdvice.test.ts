/** The one "state → words + fix + command" table (tenantAdvice.ts) and the status view built on it. */
import { describe, expect, it } from '@jest/globals';
import type { TenantRecord } from '../../../shared/ports.js';
import { adviseTenant, adviseTenants, errorInWords } from '../../../shared/usecases/tenantAdvice.js';
import { buildStatusView, parseStatusQuery, STATUS_PAGE_SIZE } from '../../../shared/usecases/statusView.js';
import { fakeWorld } from '../../fakes/index.js';

const ID = 'b0000000-0000-4000-8000-000000000001';
const now = new Date('2026-11-24T12:00:00.000Z');
const ctx = { now, defaultSource: 'graph' as const };
const tenant = (patch: Partial<TenantRecord>): TenantRecord => ({
  tenantId: ID,
  displayName: 'Contoso',
  status: 'active',
  consecutiveFailures: 0,
  ...patch,
});

describe('errorInWords', () => {
  it('explains catalogue codes, AADSTS numbers and HTTP statuses; falls back to the stored message, then the code', () => {
    expect(errorInWords('TOKEN_TENANT_MISMATCH')).toMatch(/issued for another tenant/);
    expect(errorInWords('AADSTS7000222')).toBe('The partner client secret has expired.');
    expect(errorInWords('AADSTS700016')).toMatch(/admin consent was never given or was removed/);
    expect(errorInWords('HTTP_403')).toMatch(/read permission is missing/);
    expect(errorInWords('HTTP_503')).toMatch(/service error \(HTTP 503\)/);
    expect(errorInWords('ECONNRESET', 'socket hang up')).toBe('socket hang up');
    expect(errorInWords('SOMETHING_NEW')).toBe('Error SOMETHING_NEW.');
  });
});

describe('adviseTenant', () => {
  it.each([
    [
      { status: 'consent_revoked', lastErrorCode: 'AADSTS700016' },
      /consent was revoked/,
      [`incident-collector consent-link --tenant ${ID}`],
    ],
    [
      { status: 'consent_revoked', lastErrorCode: 'AADSTS90002' },
      /cannot be found/,
      [`incident-collector tenants remove ${ID}`],
    ],
    [
      { status: 'missing_permissions', lastErrorCode: 'MISSING_ROLE' },
      /lacks the incident read permission/,
      [`incident-collector consent-link --tenant ${ID}`],
    ],
    [
      { status: 'credential_error', lastErrorCode: 'AADSTS7000215' },
      /partner credential was refused/,
      ['incident-collector credentials check'],
    ],
    [
      { status: 'credential_error', lastErrorCode: 'TOKEN_TENANT_MISMATCH' },
      /another tenant/,
      ['incident-collector credentials check'],
    ],
    [
      { status: 'failing', consecutiveFailures: 5, lastErrorCode: 'HTTP_503' },
      /^5 runs in a row failed\. Last error: The incidents API had a service error/,
      [`incident-collector collect --tenant ${ID}`],
    ],
    [
      { status: 'pending_consent', consentLinkExpiresAt: '2026-11-24T11:00:00.000Z' },
      /link expired at 2026-11-24T11:00:00.000Z/,
      [`incident-collector consent-link --tenant ${ID}`],
    ],
    [
      { status: 'active', source: 'm365d' },
      /legacy incidents API, which stops on 2027-02-01/,
      [`incident-collector sources check --tenant ${ID}`, `incident-collector tenants set-source ${ID} graph`],
    ],
    [
      { status: 'active', source: 'graph', lastErrorCode: 'SOURCE_RETIRED' },
      /stopped on 2027-02-01/,
      [`incident-collector sources check --tenant ${ID}`, `incident-collector tenants set-source ${ID} graph`],
    ],
  ] as const)('%p needs action: %p, fixed by %p', (patch, problem, commands) => {
    const advice = adviseTenant(tenant(patch as Partial<TenantRecord>), ctx);
    expect(advice.needsAction).toBe(true);
    expect(advice.problem).toMatch(problem);
    expect(advice.fix).not.toBe('');
    expect(advice.commands).toEqual(commands);
  });

  it.each([
    [{ status: 'active' }, /Collecting normally/],
    [{ status: 'active', consecutiveFailures: 1, lastErrorCode: 'HTTP_429' }, /last run failed \(1 in a row\)/],
    [{ status: 'pending_consent', consentLinkExpiresAt: '2026-11-25T12:00:00.000Z' }, /Waiting for the customer/],
    [{ status: 'disabled' }, /Disabled by an operator/],
  ] as const)('%p needs no action: %p', (patch, problem) => {
    const advice = adviseTenant(tenant(patch as Partial<TenantRecord>), ctx);
    expect(advice.needsAction).toBe(false);
    expect(advice.problem).toMatch(problem);
  });

  it('since is when the status was set; the list puts the most urgent first, then the longest in it', () => {
    const list = adviseTenants(
      [
        tenant({ tenantId: 'a-ok' }),
        tenant({ tenantId: 'b-failing-new', status: 'failing', statusChangedAt: '2026-11-24T10:00:00Z' }),
        tenant({ tenantId: 'c-failing-old', status: 'failing', statusChangedAt: '2026-11-20T10:00:00Z' }),
        tenant({ tenantId: 'd-cred', status: 'credential_error', statusChangedAt: '2026-11-24T11:00:00Z' }),
        tenant({ tenantId: 'e-disabled', status: 'disabled' }),
      ],
      ctx,
    );
    expect(list.map((a) => a.tenantId)).toEqual(['d-cred', 'c-failing-old', 'b-failing-new', 'a-ok', 'e-disabled']);
    expect(list[1]?.since).toBe('2026-11-20T10:00:00Z');
  });
});

describe('status view', () => {
  it('parses page and status, naming a bad one', () => {
    expect(parseStatusQuery({})).toEqual({ page: 1 });
    expect(parseStatusQuery({ page: '3', status: 'failing' })).toEqual({ page: 3, status: 'failing' });
    expect(() => parseStatusQuery({ page: '0' })).toThrow(
      expect.objectContaining({ name: 'InputError', field: 'page' }),
    );
    expect(() => parseStatusQuery({ page: 'x' })).toThrow(expect.objectContaining({ field: 'page' }));
    expect(() => parseStatusQuery({ status: 'broken' })).toThrow(expect.objectContaining({ field: 'status' }));
  });

  it('pages the tenants 100 at a time, filters by status, caps the last page, and says when delivery is not wired', async () => {
    const w = fakeWorld();
    for (let i = 0; i < 250; i++)
      w.tenants.seed({
        tenantId: `c0000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        displayName: `T${i}`,
        status: i % 10 === 0 ? 'failing' : 'active',
      });
    const deps = {
      runs: w.runs,
      tenants: w.tenants,
      clock: w.clock,
      logger: w.logger,
      defaultSource: 'graph' as const,
      staleAfterMinutes: 150,
    };
    const first = await buildStatusView(deps, { page: 1 });
    expect(first.tenants).toMatchObject({ total: 250, page: 1, pages: 3 });
    expect(first.tenants.rows).toHaveLength(STATUS_PAGE_SIZE);
    expect(first.needsAction.total).toBe(25);
    expect(first.tenants.rows.slice(0, 25).every((r) => r.status === 'failing')).toBe(true);
    expect((await buildStatusView(deps, { page: 9 })).tenants).toMatchObject({ page: 3, rows: expect.any(Array) });
    expect((await buildStatusView(deps, { page: 3 })).tenants.rows).toHaveLength(50);
    const failing = await buildStatusView(deps, { page: 1, status: 'failing' });
    expect(failing.tenants).toMatchObject({ total: 25, pages: 1, status: 'failing' });
    expect(first.subscriptions).toEqual({ state: 'not_wired' });
    expect(first.runs).toEqual([]);

    const wired = await buildStatusView(
      {
        ...deps,
        subscriptions: async () => [
          { id: 's1', kind: 'webhook', url: 'https://x', filters: {}, status: 'active', pending: 2, deadLettered: 1 },
        ],
      },
      { page: 1 },
    );
    expect(wired.subscriptions).toMatchObject({ state: 'ok', list: [{ id: 's1', pending: 2 }] });
  });
});
