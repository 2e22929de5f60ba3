import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientSecretCredential } from '@azure/identity';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { requestToken, request } from './simClient.js';

const GRANTED = '11111111-1111-4111-8111-111111111111';
const NONE = '22222222-2222-4222-8222-222222222222';
const REVOKED = '33333333-3333-4333-8333-333333333333';
const SP_MISSING = '44444444-4444-4444-8444-444444444444';
const NO_ROLES = '55555555-5555-4555-8555-555555555555';
const UNKNOWN = '66666666-6666-4666-8666-666666666666';

describe('EntraSim', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({
      azurite: false,
      tenants: [
        { tenantId: GRANTED, incidents: 1 },
        { tenantId: NONE, consent: 'none', incidents: 0 },
        { tenantId: REVOKED, consent: 'revoked', incidents: 0 },
        { tenantId: SP_MISSING, consent: 'sp_missing', incidents: 0 },
        { tenantId: NO_ROLES, consent: 'no_roles', incidents: 0 },
      ],
    });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const credential = (tenantId: string, secret = stack.partnerSecret) =>
    new ClientSecretCredential(tenantId, stack.env.PARTNER_CLIENT_ID ?? '', secret, {
      authorityHost: stack.entra.url,
      disableInstanceDiscovery: true,
    });

  it('issues an RS256 token with the specified claims to the real ClientSecretCredential', async () => {
    const token = await credential(GRANTED).getToken(`${stack.graph.url}/.default`);
    expect(token.token).toBeTruthy();
    const claims = decodeJwt(token.token);
    expect(decodeProtectedHeader(token.token)).toMatchObject({ alg: 'RS256', kid: stack.entra.kid });
    expect(claims).toMatchObject({
      aud: stack.graph.url,
      tid: GRANTED,
      roles: ['SecurityIncident.Read.All'],
      appid: stack.env.PARTNER_CLIENT_ID,
      azp: stack.env.PARTNER_CLIENT_ID,
      appidacr: '1',
    });
    expect(typeof claims.oid).toBe('string');
    expect(typeof claims.iss).toBe('string');
    expect((claims.exp ?? 0) - Math.floor(Date.now() / 1000)).toBeGreaterThan(3500);
    const legacy = decodeJwt((await credential(GRANTED).getToken(`${stack.legacy.url}/.default`)).token);
    expect(legacy.roles).toEqual(['Incident.Read.All']);
    expect(legacy.aud).toBe(stack.legacy.url);
  });

  it('answers expires_in 3599 and serves the signing key as JWKS', async () => {
    const answer = await requestToken(stack, GRANTED, `${stack.graph.url}/.default`);
    expect(answer.json()).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    const keys = await request(stack, `${stack.entra.url}/${GRANTED}/discovery/v2.0/keys`);
    expect(keys.json<{ keys: { kid: string; kty: string }[] }>().keys).toEqual([
      expect.objectContaining({ kid: stack.entra.kid, kty: 'RSA' }),
    ]);
  });

  it('adds its latency to the token endpoints only: discovery and keys answer at once', async () => {
    stack.entra.latencyMs = 600_000;
    try {
      // Delayed, these would outlast the test's timeout: MSAL fetches discovery only from an authority it does not know.
      const discovery = await request(stack, `${stack.entra.url}/${GRANTED}/v2.0/.well-known/openid-configuration`);
      expect(discovery.status).toBe(200);
      expect((await request(stack, `${stack.entra.url}/${GRANTED}/discovery/v2.0/keys`)).status).toBe(200);
      const latencyOf = (kind: string) => stack.entra['latencyFor']({ ...stack.entra.requests[0]!, kind });
      expect([latencyOf('token'), latencyOf('managed_identity')]).toEqual([600_000, 600_000]);
      expect([latencyOf('discovery'), latencyOf('keys')]).toEqual([0, 0]);
    } finally {
      stack.entra.latencyMs = 0;
    }
  });

  it.each([
    [NONE, 400, 'invalid_grant', 65001],
    [REVOKED, 400, 'unauthorized_client', 700016],
    [SP_MISSING, 401, 'invalid_client', 7000229],
    [UNKNOWN, 400, 'invalid_request', 90002],
  ])('tenant %s is refused with the real error shape', async (tenantId, status, error, code) => {
    const answer = await requestToken(stack, tenantId, `${stack.graph.url}/.default`);
    expect(answer.status).toBe(status);
    const body = answer.json<Record<string, unknown>>();
    expect(body).toMatchObject({ error, error_codes: [code] });
    expect(body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(body).toEqual(
      expect.objectContaining({
        trace_id: expect.any(String),
        correlation_id: expect.any(String),
        timestamp: expect.any(String),
      }),
    );
    expect(answer.text).not.toContain(stack.partnerSecret);
  });

  it('surfaces consent errors through the real credential with the AADSTS number in the message', async () => {
    await expect(credential(REVOKED).getToken(`${stack.graph.url}/.default`)).rejects.toThrow(/AADSTS700016/);
    await expect(credential(NONE).getToken(`${stack.graph.url}/.default`)).rejects.toThrow(/AADSTS65001/);
  });

  it('answers an unknown tenant at discovery with invalid_tenant (endpoints_resolution_error in the SDK)', async () => {
    const discovery = await request(stack, `${stack.entra.url}/${UNKNOWN}/v2.0/.well-known/openid-configuration`);
    expect(discovery.status).toBe(400);
    expect(discovery.json()).toMatchObject({ error: 'invalid_tenant', error_codes: [90002] });
    await expect(credential(UNKNOWN).getToken(`${stack.graph.url}/.default`)).rejects.toThrow(
      /endpoints_resolution_error/,
    );
  });

  it("issues a token without roles for 'no_roles'", async () => {
    const answer = await requestToken(stack, NO_ROLES, `${stack.graph.url}/.default`);
    expect(answer.status).toBe(200);
    const claims = decodeJwt(answer.json<{ access_token: string }>().access_token);
    expect(claims.tid).toBe(NO_ROLES);
    expect(claims.roles).toBeUndefined();
  });

  it('refuses a wrong secret (7000215) and an expired one (7000222); accepts a newly added one', async () => {
    const wrong = await requestToken(stack, GRANTED, `${stack.graph.url}/.default`, 'not-the-secret');
    expect(wrong.status).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'invalid_client', error_codes: [7000215] });
    const rotated = 'rotated~secret-value-0123456789abcdefghij';
    stack.entra.acceptSecrets(rotated);
    expect((await requestToken(stack, GRANTED, `${stack.graph.url}/.default`, rotated)).status).toBe(200);
    stack.entra.expireSecret(rotated);
    const expired = await requestToken(stack, GRANTED, `${stack.graph.url}/.default`, rotated);
    expect(expired.status).toBe(401);
    expect(expired.json()).toMatchObject({ error: 'invalid_client', error_codes: [7000222] });
    expect(stack.entra.tokenRequests(GRANTED).map((r) => r.errorCode)).toEqual(
      expect.arrayContaining([7000215, 7000222]),
    );
  });

  it('can issue tokens carrying another tenant or no tenant at all', async () => {
    stack.entra.issueTokensFor(GRANTED, NO_ROLES);
    const other = decodeJwt(
      (await requestToken(stack, GRANTED, `${stack.graph.url}/.default`)).json<{ access_token: string }>().access_token,
    );
    expect(other.tid).toBe(NO_ROLES);
    stack.entra.issueTokensFor(GRANTED, null);
    const none = decodeJwt(
      (await requestToken(stack, GRANTED, `${stack.graph.url}/.default`)).json<{ access_token: string }>().access_token,
    );
    expect(none.tid).toBeUndefined();
    stack.entra.issueTokensFor(GRANTED, GRANTED);
  });

  describe('admin consent', () => {
    const link = (tenant: string, state: string, redirect = stack.env.CONSENT_REDIRECT_URI ?? '') =>
      `${stack.entra.url}/${tenant}/v2.0/adminconsent?${new URLSearchParams({ client_id: stack.env.PARTNER_CLIENT_ID ?? '', scope: `${stack.graph.url}/.default`, redirect_uri: redirect, state })}`;

    it('grants the tenant in the path and redirects with admin_consent, tenant, scope and state', async () => {
      const answer = await request(stack, link(NONE, 'st-1'));
      expect(answer.status).toBe(302);
      const location = new URL(String(answer.headers.location));
      expect(`${location.origin}${location.pathname}`).toBe(stack.env.CONSENT_REDIRECT_URI);
      expect(Object.fromEntries(location.searchParams)).toEqual({
        admin_consent: 'True',
        tenant: NONE,
        scope: `${stack.graph.url}/.default`,
        state: 'st-1',
      });
      expect(stack.entra.consentOf(NONE)).toBe('granted');
      expect((await requestToken(stack, NONE, `${stack.graph.url}/.default`)).status).toBe(200);
    });

    it('plays a denying administrator for an organizations link', async () => {
      stack.entra.nextConsent({ tenantId: REVOKED, outcome: 'deny' });
      const answer = await request(stack, link('organizations', 'st-2'));
      const params = new URL(String(answer.headers.location)).searchParams;
      expect(params.get('admin_consent')).toBe('True');
      expect(params.get('error')).toBe('access_denied');
      expect(params.get('error_description')).toMatch(/^AADSTS65004/);
      expect(params.get('state')).toBe('st-2');
      expect(params.get('tenant')).toBeNull();
      expect(stack.entra.consentOf(REVOKED)).toBe('revoked');
    });

    it('grants without roles when told to', async () => {
      stack.entra.nextConsent({ tenantId: SP_MISSING, outcome: 'grant_without_roles' });
      const answer = await request(stack, link('organizations', 'st-3'));
      expect(new URL(String(answer.headers.location)).searchParams.get('tenant')).toBe(SP_MISSING);
      expect(stack.entra.consentOf(SP_MISSING)).toBe('no_roles');
    });

    it('answers 400 for an unknown client or an unregistered redirect URI', async () => {
      const badClient = link(GRANTED, 's').replace(
        `client_id=${stack.env.PARTNER_CLIENT_ID}`,
        'client_id=00000000-0000-4000-8000-000000000000',
      );
      expect((await request(stack, badClient)).status).toBe(400);
      expect((await request(stack, link(GRANTED, 's', 'https://evil.example/steal'))).status).toBe(400);
    });
  });
});
