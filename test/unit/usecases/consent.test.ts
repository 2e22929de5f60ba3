/**
 * Admin-consent onboarding (design §8) on in-memory fakes: the state is one-time, expires, binds the tenant it was
 * made for; an error redirect consumes it; success registers the tenant active only after token and probe checks,
 * keeping an existing checkpoint.
 */
import { describe, expect, it } from '@jest/globals';
import { CollectorError, ConfigError, InputError, type FailureKind } from '../../../shared/domain/errors.js';
import {
  completeConsent,
  CONSENT_STATE_TTL_MS,
  createConsentLink,
  type ConsentLinkDeps,
} from '../../../shared/usecases/consent.js';
import { fakeWorld } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-00000000000c';
const OTHER = '0a1b2c3d-0000-4000-8000-00000000000d';

function setup() {
  const w = fakeWorld();
  const linkDeps: ConsentLinkDeps = {
    consentStates: w.consentStates,
    clock: w.clock,
    authorityHost: 'https://login.example.test',
    clientId: 'client-1',
    scope: 'https://graph.microsoft.com/.default',
    redirectUri: 'https://app.example.test/api/consent/callback',
    logger: w.logger,
  };
  return { w, linkDeps };
}

describe('createConsentLink', () => {
  it('a name with a control character or over 256 characters is an InputError naming name, and nothing is stored', async () => {
    const { w, linkDeps } = setup();

    for (const name of ['Con\ntoso', 'Con\u0007toso', 'x'.repeat(257)])
      await expect(createConsentLink(linkDeps, { tenant: T, name })).rejects.toMatchObject({
        name: 'InputError',
        field: 'name',
      });
    expect(w.consentStates.size).toBe(0);
  });

  it('stores a one-time state bound to the named tenant (lower case) for 24 hours and builds the adminconsent URL', async () => {
    const { w, linkDeps } = setup();

    const link = await createConsentLink(linkDeps, { tenant: T.toUpperCase(), name: 'Contoso' });

    expect(link.expiresAt).toBe(new Date(w.clock.now().getTime() + CONSENT_STATE_TTL_MS).toISOString());
    const url = new URL(link.url);
    expect(`${url.origin}${url.pathname}`).toBe(`https://login.example.test/${T}/v2.0/adminconsent`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-1',
      scope: 'https://graph.microsoft.com/.default',
      redirect_uri: 'https://app.example.test/api/consent/callback',
      state: link.state,
    });
    expect(link.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await w.consentStates.consume(link.state)).toEqual({
      tenantId: T,
      displayName: 'Contoso',
      createdAt: w.clock.iso(),
      expiresAt: link.expiresAt,
    });
  });

  it('without a tenant makes an organizations link bound to no tenant', async () => {
    const { w, linkDeps } = setup();

    const link = await createConsentLink(linkDeps, {});

    expect(new URL(link.url).pathname).toBe('/organizations/v2.0/adminconsent');
    expect((await w.consentStates.consume(link.state))?.tenantId).toBeUndefined();
  });

  it('deletes expired states of links nobody used while making a new one', async () => {
    const { w, linkDeps } = setup();
    const old = await createConsentLink(linkDeps, {});
    w.clock.advance(CONSENT_STATE_TTL_MS + 1);

    await createConsentLink(linkDeps, {});

    expect(w.consentStates.size).toBe(1);
    expect(await w.consentStates.consume(old.state)).toBeUndefined();
  });

  it('names the missing setting (ConfigError) or the bad argument (InputError)', async () => {
    const { linkDeps } = setup();
    await expect(createConsentLink({ ...linkDeps, redirectUri: undefined }, {})).rejects.toMatchObject({
      setting: 'CONSENT_REDIRECT_URI',
    });
    await expect(createConsentLink({ ...linkDeps, redirectUri: undefined }, {})).rejects.toBeInstanceOf(ConfigError);
    await expect(createConsentLink(linkDeps, { tenant: 'not a tenant!' })).rejects.toBeInstanceOf(InputError);
    await expect(createConsentLink(linkDeps, { tenant: 'not a tenant!' })).rejects.toMatchObject({ field: 'tenant' });
    await expect(createConsentLink(linkDeps, { name: 'x'.repeat(257) })).rejects.toMatchObject({ field: 'name' });
  });
});

describe('completeConsent', () => {
  async function link(tenant?: string) {
    const s = setup();
    const made = await createConsentLink(s.linkDeps, tenant ? { tenant, name: 'Contoso' } : {});
    return { ...s, state: made.state };
  }

  it('success registers the tenant active after one token and one probe, and consumes the state', async () => {
    const { w, state } = await link(T);

    const outcome = await completeConsent(w, { state, tenant: T, admin_consent: 'True' });

    expect(outcome).toMatchObject({ ok: true, reconsented: false, tenant: { tenantId: T, status: 'active' } });
    expect(w.tokens.calls).toEqual([T]);
    expect(w.source.probes).toEqual([T]);
    expect(await w.tenants.get(T)).toMatchObject({
      displayName: 'Contoso',
      status: 'active',
      consentedAt: w.clock.iso(),
      lastProbeAt: w.clock.iso(),
      consecutiveFailures: 0,
    });
    expect(await completeConsent(w, { state, tenant: T })).toMatchObject({
      ok: false,
      status: 400,
      reason: 'invalid_state',
    });
  });

  it('a state is accepted once only, even when the first use failed', async () => {
    const { w, state } = await link(T);
    w.tokens.failsWith(T, 'transient', 'AADSTS50033');
    expect(await completeConsent(w, { state, tenant: T })).toMatchObject({ ok: false, status: 503 });
    w.tokens.succeeds(T);

    expect(await completeConsent(w, { state, tenant: T })).toMatchObject({ ok: false, reason: 'invalid_state' });
    expect(await w.tenants.get(T)).toBeUndefined();
  });

  it('an expired state is refused and consumed; one a millisecond before expiry is accepted', async () => {
    const late = await link(T);
    late.w.clock.advance(CONSENT_STATE_TTL_MS);
    expect(await completeConsent(late.w, { state: late.state, tenant: T })).toMatchObject({
      ok: false,
      status: 400,
      reason: 'expired_state',
    });
    expect(late.w.consentStates.size).toBe(0);
    expect(await late.w.tenants.get(T)).toBeUndefined();

    const justInTime = await link(T);
    justInTime.w.clock.advance(CONSENT_STATE_TTL_MS - 1);
    expect(await completeConsent(justInTime.w, { state: justInTime.state, tenant: T })).toMatchObject({ ok: true });
  });

  it('missing, malformed and unknown states are refused before anything is read or written', async () => {
    const { w } = await link(T);
    expect(await completeConsent(w, { tenant: T })).toMatchObject({ ok: false, reason: 'missing_state' });
    expect(await completeConsent(w, { state: "x' or 1 eq 1", tenant: T })).toMatchObject({ reason: 'invalid_state' });
    expect(await completeConsent(w, { state: 'A'.repeat(43), tenant: T })).toMatchObject({ reason: 'invalid_state' });
    expect(w.consentStates.size).toBe(1);
    expect(w.tokens.calls).toEqual([]);
  });

  it('an error redirect consumes the state, names the error and registers nothing', async () => {
    const { w, state } = await link(T);

    const outcome = await completeConsent(w, {
      state,
      tenant: T,
      admin_consent: 'True',
      error: 'access_denied',
      error_description: 'The admin declined.',
    });

    expect(outcome).toEqual({
      ok: false,
      status: 400,
      reason: 'consent_error',
      detail: { code: 'access_denied', description: 'The admin declined.' },
    });
    expect(w.tokens.calls).toEqual([]);
    expect(await w.tenants.get(T)).toBeUndefined();
    expect(await completeConsent(w, { state, tenant: T })).toMatchObject({ reason: 'invalid_state' });
  });

  it('a link made for one tenant refuses another; an organizations link accepts any verified tenant', async () => {
    const bound = await link(T);
    expect(await completeConsent(bound.w, { state: bound.state, tenant: OTHER })).toMatchObject({
      ok: false,
      status: 400,
      reason: 'tenant_mismatch',
      detail: { tenantId: OTHER },
    });
    expect(bound.w.tokens.calls).toEqual([]);
    expect(await bound.w.tenants.get(OTHER)).toBeUndefined();

    const open = await link();
    expect(await completeConsent(open.w, { state: open.state, tenant: OTHER.toUpperCase() })).toMatchObject({
      ok: true,
      tenant: { tenantId: OTHER, displayName: OTHER },
    });
  });

  it('a returned tenant that is not a GUID is refused', async () => {
    const { w, state } = await link();
    expect(await completeConsent(w, { state, tenant: 'contoso.onmicrosoft.com' })).toMatchObject({
      reason: 'invalid_tenant',
    });
  });

  const failures: [FailureKind, number, string][] = [
    ['missing_permissions', 403, 'missing_permissions'],
    ['transient', 503, 'temporarily_unavailable'],
    ['consent_revoked', 400, 'verification_failed'],
    ['credential_error', 400, 'verification_failed'],
  ];
  it.each(failures)('a %s verification failure answers %s %s and registers nothing', async (kind, status, reason) => {
    const { w, state } = await link(T);
    w.source.probeFails(T, new CollectorError('Probe refused.', { code: 'PROBE_CODE', kind }));

    const outcome = await completeConsent(w, { state, tenant: T });

    expect(outcome).toEqual({ ok: false, status, reason, detail: { code: 'PROBE_CODE', tenantId: T } });
    expect(await w.tenants.get(T)).toBeUndefined();
  });

  it('re-consent keeps the checkpoint and returns a revoked tenant to active', async () => {
    const { w, state } = await link(T);
    w.tenants.seed({
      tenantId: T,
      displayName: 'Old name',
      status: 'consent_revoked',
      consentedAt: '2026-01-01T00:00:00.000Z',
      checkpoint: '2026-11-20T10:00:00.1234567Z',
      consecutiveFailures: 2,
      lastErrorCode: 'AADSTS65001',
    });

    const outcome = await completeConsent(w, { state, tenant: T });

    expect(outcome).toMatchObject({ ok: true, reconsented: true });
    const after = await w.tenants.get(T);
    expect(after).toMatchObject({
      displayName: 'Contoso',
      status: 'active',
      checkpoint: '2026-11-20T10:00:00.1234567Z',
      consentedAt: w.clock.iso(),
      consecutiveFailures: 0,
    });
    expect(after?.lastErrorCode).toBeUndefined();
  });

  it('consent does not re-enable a disabled tenant', async () => {
    const { w, state } = await link(T);
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'disabled', checkpoint: '2026-11-20T10:00:00Z' });

    const outcome = await completeConsent(w, { state, tenant: T });

    expect(outcome).toMatchObject({ ok: true, reconsented: true, tenant: { status: 'disabled' } });
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'disabled',
      consentedAt: w.clock.iso(),
      checkpoint: '2026-11-20T10:00:00Z',
    });
  });
});
