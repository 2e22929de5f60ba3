/**
 * Review findings on the legacy-API migration (issue 14), on in-memory fakes: a new tenant is verified on its own
 * source (auto falls back to the legacy API), the 2027-02-01 cut-off is honoured by verify, consent and set-source
 * (injected clock), and a missing row of ours is exit 1, not a usage error.
 */
import { describe, expect, it } from '@jest/globals';
import { exitCodeOfError } from '../../../shared/cli/commands.js';
import { ErrorCode } from '../../../shared/domain/errorCodes.js';
import { CollectorError, InputError, NotFoundError } from '../../../shared/domain/errors.js';
import type { IncidentSource, SourceKind, SourceSetting, TokenProvider } from '../../../shared/ports.js';
import { completeConsent } from '../../../shared/usecases/consent.js';
import { checkHealth, TenantListCache } from '../../../shared/usecases/health.js';
import { checkSources } from '../../../shared/usecases/sourcesCheck.js';
import { SOURCE_RETIRED } from '../../../shared/usecases/sourceChoice.js';
import { addTenant, setTenantSource, verifyTenant } from '../../../shared/usecases/tenants.js';
import { fakeWorld } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-0000000000a1';
const BEFORE = '2026-12-01T00:00:00.000Z';
const AFTER = '2027-02-02T00:00:00.000Z';

/** A fakeWorld with a source registry: `graphRole` false = Graph tokens lack the read role (not consented). */
function world(setting: SourceSetting, now: string, graphRole = true) {
  const w = fakeWorld({ start: now });
  const calls: string[] = [];
  const source = (kind: SourceKind): IncidentSource => ({
    kind,
    scope: `${kind}/.default`,
    readRoles: [],
    pages: async function* () {},
    probe: async (tenantId) => void calls.push(`probe:${kind}:${tenantId}`),
  });
  const roles = { graph: graphRole, m365d: true };
  const tokens = (kind: SourceKind): TokenProvider => ({
    getToken: async (tenantId) => {
      calls.push(`token:${kind}:${tenantId}`);
      if (!roles[kind])
        throw new CollectorError('no role', { code: ErrorCode.MISSING_ROLE, kind: 'missing_permissions' });
      return 'token';
    },
  });
  const pairs = {
    graph: { source: source('graph'), tokens: tokens('graph') },
    m365d: { source: source('m365d'), tokens: tokens('m365d') },
  };
  const deps = { ...w, sources: { defaultSetting: setting, sourceFor: (k: SourceKind) => pairs[k] }, ...pairs.graph };
  return { w, deps, calls, roles };
}

describe('tenants add / verify on the tenant source', () => {
  it('INCIDENT_SOURCE=auto: a NEW legacy-only tenant verifies on the legacy API and is active', async () => {
    const { w, deps, calls } = world('auto', BEFORE, false);

    const outcome = await addTenant(deps, { tenantId: T, displayName: 'Contoso', verify: true });

    expect(outcome.failure).toBeUndefined();
    expect(await w.tenants.get(T)).toMatchObject({ status: 'active', displayName: 'Contoso' });
    expect(calls).toEqual([`token:graph:${T}`, `token:m365d:${T}`, `probe:m365d:${T}`]);
  });

  it('verifyTenant of an unstored tenant under auto probes the legacy API when Graph lacks the role', async () => {
    const { w, deps, calls } = world('auto', BEFORE, false);

    const outcome = await verifyTenant(deps, T, 'Contoso');

    expect(outcome.failure).toBeUndefined();
    expect(await w.tenants.get(T)).toMatchObject({ status: 'active' });
    expect(calls).toContain(`probe:m365d:${T}`);
  });

  it('INCIDENT_SOURCE=m365d after the cut-off: a new tenant is SOURCE_RETIRED, no legacy call, status unchanged', async () => {
    const { w, deps, calls } = world('m365d', AFTER);

    const outcome = await addTenant(deps, { tenantId: T, displayName: 'Contoso', verify: true });

    expect(outcome.failure).toMatchObject({ code: SOURCE_RETIRED });
    expect(outcome.failure?.message).toContain(`tenants set-source ${T} graph`);
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'pending_consent',
      consecutiveFailures: 0,
      lastErrorCode: SOURCE_RETIRED,
    });
    expect(calls).toEqual([]);
  });

  it('re-verifying an active tenant after the cut-off keeps it active and does not count a failure', async () => {
    const { w, deps } = world('m365d', AFTER);
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consecutiveFailures: 0 });

    const outcome = await verifyTenant(deps, T);

    expect(outcome.failure).toMatchObject({ code: SOURCE_RETIRED });
    expect(await w.tenants.get(T)).toMatchObject({ status: 'active', consecutiveFailures: 0 });
  });
});

describe('tenants set-source after the cut-off', () => {
  it('m365d is refused with SOURCE_RETIRED from 2027-02-01 and the column is unchanged; before, it is set', async () => {
    const after = world('graph', AFTER);
    after.w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', source: 'graph' });
    await expect(setTenantSource(after.deps, T, 'm365d')).rejects.toMatchObject({ code: SOURCE_RETIRED });
    expect((await after.w.tenants.get(T))?.source).toBe('graph');
    expect((await setTenantSource(after.deps, T, 'graph')).source).toBe('graph');

    const before = world('graph', BEFORE);
    before.w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active' });
    expect((await setTenantSource(before.deps, T, 'm365d')).source).toBe('m365d');
  });
});

describe('consent callback after the cut-off', () => {
  it('INCIDENT_SOURCE=m365d: SOURCE_RETIRED without calling the legacy API, nothing registered', async () => {
    const { w, deps, calls } = world('m365d', AFTER);
    const state = 'a'.repeat(43);
    await w.consentStates.save(state, { createdAt: w.clock.iso(), expiresAt: '2027-02-03T00:00:00.000Z' });

    const outcome = await completeConsent(deps, { state, tenant: T, admin_consent: 'True' });

    expect(outcome).toMatchObject({ ok: false, reason: 'source_retired', detail: { code: SOURCE_RETIRED } });
    expect(calls).toEqual([]);
    expect(await w.tenants.get(T)).toBeUndefined();
  });

  it('INCIDENT_SOURCE=auto before the cut-off: a legacy-only tenant is registered after a legacy probe', async () => {
    const { w, deps, calls } = world('auto', BEFORE, false);
    const state = 'b'.repeat(43);
    await w.consentStates.save(state, { createdAt: w.clock.iso(), expiresAt: '2026-12-02T00:00:00.000Z' });

    const outcome = await completeConsent(deps, { state, tenant: T, admin_consent: 'True' });

    expect(outcome).toMatchObject({ ok: true, tenant: { tenantId: T, status: 'active' } });
    expect(calls).toContain(`probe:m365d:${T}`);
  });
});

describe('sources check consent links with INCIDENT_SOURCE=m365d', () => {
  it('carry the Graph scope, and their callback verifies Graph (not the legacy API)', async () => {
    const { w, deps, calls, roles } = world('m365d', BEFORE, false);
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consecutiveFailures: 0 });
    const consentLink = {
      consentStates: w.consentStates,
      clock: w.clock,
      authorityHost: 'https://login.example',
      clientId: 'client',
      scope: 'm365d/.default',
      redirectUri: 'https://app.example/api/consent/callback',
      logger: w.logger,
    };

    const report = await checkSources({ ...deps, concurrency: 1, consentLink });
    const line = report.tenants[0];
    expect(line?.action).toBe('send_consent_link');
    const url = new URL(line?.consentLink?.url ?? 'https://missing.example');
    expect(url.searchParams.get('scope')).toBe('graph/.default');

    roles.graph = true; // the admin consented to Graph
    calls.length = 0;
    const outcome = await completeConsent(deps, { state: url.searchParams.get('state') ?? '', tenant: T });

    expect(outcome).toMatchObject({ ok: true });
    expect(calls).toEqual([`token:graph:${T}`, `probe:graph:${T}`]);
  });
});

describe('anonymous /api/health from 2027-01-01', () => {
  it('reuses one Tenants read for 60 s (injected clock) instead of scanning Tenants on every request', async () => {
    const w = fakeWorld({ start: '2027-01-10T00:00:00.000Z' });
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', source: 'm365d' });
    let scans = 0;
    const tenants = Object.create(w.tenants) as typeof w.tenants; // the fake, with list() counted
    tenants.list = async () => {
      scans++;
      return w.tenants.list();
    };
    const tenantCache = new TenantListCache();
    const check = async () => {
      const report = await checkHealth({
        runs: w.runs,
        logger: w.logger,
        tenants,
        clock: w.clock,
        defaultSource: 'graph',
        staleAfterMinutes: 150,
        tenantCache,
      });
      return report.problems.map((p) => p.code);
    };

    const first = await check();
    await w.tenants.update(T, { source: 'graph' });
    const cached = await check();
    w.clock.advance(59_999);
    const stillCached = await check();
    w.clock.advance(1);
    const fresh = await check();

    expect([first, cached, stillCached]).toEqual([
      ['NO_RUN_YET', 'LEGACY_SOURCE_IN_USE'],
      ['NO_RUN_YET', 'LEGACY_SOURCE_IN_USE'],
      ['NO_RUN_YET', 'LEGACY_SOURCE_IN_USE'],
    ]);
    expect(fresh).toEqual(['NO_RUN_YET']);
    expect(scans).toBe(2);
  });
});

describe('exitCodeOfError', () => {
  it('2 for input, config and an unknown tenant the caller named; 1 for a row of ours found missing', () => {
    expect(exitCodeOfError(new InputError('x', 'bad')).code).toBe(2);
    expect(exitCodeOfError(new NotFoundError('Tenant x is not registered.')).code).toBe(2);
    expect(exitCodeOfError(new NotFoundError('Run r is gone.', 'TABLE_RUN_NOT_FOUND')).code).toBe(1);
    expect(exitCodeOfError(new Error('boom')).code).toBe(1);
  });
});
