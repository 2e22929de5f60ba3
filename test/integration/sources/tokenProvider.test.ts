/**
 * Token and secret providers against the Entra and Key Vault simulators (real ClientSecretCredential,
 * DefaultAzureCredential and SecretClient): claims checks before any API call, Entra error classification,
 * and secret rotation picked up by the same provider instance.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../../devstack/azurite.js';
import { KeyVaultSecretProvider, createAzureCredential } from '../../../shared/adapters/secretProvider.js';
import { EntraTokenProvider } from '../../../shared/adapters/tokenProvider.js';
import { GRAPH_READ_ROLES } from '../../../shared/adapters/graphSource.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { PARTNER_SECRET_NAME, startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import { buildAdapters, collectPages, settingsOf, useStackIdentity, wideWindow } from './harness.js';

const OK = '0c000000-0000-4000-8000-000000000001';
const OTHER = '0c000000-0000-4000-8000-000000000002';
const MISMATCH = '0c000000-0000-4000-8000-000000000003';
const REVOKED = '0c000000-0000-4000-8000-000000000004';
const NO_ROLES = '0c000000-0000-4000-8000-000000000005';
const NOT_CONSENTED = '0c000000-0000-4000-8000-000000000006';
const UNKNOWN = '0c000000-0000-4000-8000-0000000000ff';
const ROTATION = [
  '0c000000-0000-4000-8000-000000000011',
  '0c000000-0000-4000-8000-000000000012',
  '0c000000-0000-4000-8000-000000000013',
  '0c000000-0000-4000-8000-000000000014',
];

let stack: LocalStack;
let restoreIdentity: () => void;

beforeAll(async () => {
  stack = await startLocalStack({
    azurite: false,
    tenants: [
      { tenantId: OK, incidents: 3 },
      { tenantId: OTHER, incidents: 3 },
      { tenantId: MISMATCH, incidents: 3 },
      { tenantId: REVOKED, consent: 'revoked' },
      { tenantId: NO_ROLES, consent: 'no_roles' },
      { tenantId: NOT_CONSENTED, consent: 'none' },
      ...ROTATION.map((tenantId) => ({ tenantId, incidents: 1 })),
    ],
  });
  stack.trustInProcess();
  restoreIdentity = useStackIdentity(stack);
});

afterAll(async () => {
  restoreIdentity?.();
  await stack?.stop();
});

async function failure(promise: Promise<unknown>): Promise<CollectorError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CollectorError);
  return error as CollectorError;
}

describe('EntraTokenProvider', () => {
  it('gives a token whose tid and roles were checked', async () => {
    const { tokens } = buildAdapters(stack, { source: 'graph' });
    const token = await tokens.getToken(OK);
    expect(token.split('.')).toHaveLength(3);
  });

  it('refuses a token issued for another tenant before any API call (TOKEN_TENANT_MISMATCH)', async () => {
    stack.entra.issueTokensFor(MISMATCH, OTHER);
    try {
      const { source } = buildAdapters(stack, { source: 'graph' });
      const error = await failure(collectPages(source.pages(MISMATCH, wideWindow())));
      expect(error).toMatchObject({ code: 'TOKEN_TENANT_MISMATCH', kind: 'credential_error' });
      // The API never saw a request with that token (its tid is the other tenant) nor for the tenant itself.
      expect(stack.graph.requests.filter((r) => r.tenantId === OTHER || r.tenantId === MISMATCH)).toHaveLength(0);
      stack.entra.issueTokensFor(MISMATCH, null);
      const missing = await failure(buildAdapters(stack, { source: 'graph' }).tokens.getToken(MISMATCH));
      expect(missing).toMatchObject({ code: 'TOKEN_TENANT_MISMATCH', kind: 'credential_error' });
    } finally {
      stack.entra.issueTokensFor(MISMATCH, MISMATCH);
    }
  });

  it('classifies revoked consent as consent_revoked AADSTS700016, with a short message', async () => {
    const error = await failure(buildAdapters(stack, { source: 'graph' }).tokens.getToken(REVOKED));
    expect(error).toMatchObject({ code: 'AADSTS700016', kind: 'consent_revoked' });
    expect(error.message).toMatch(
      /^Token request for tenant 0c000000-0000-4000-8000-000000000004 failed: unauthorized_client: AADSTS700016: Application with identifier '[^']+' was not found in the directory '[^']+'\. \(trace [0-9a-f-]{36}\)$/,
    );
    expect(error.message).not.toContain(stack.partnerSecret);
  });

  it('classifies missing consent (65001) as consent_revoked and a token without roles as missing_permissions', async () => {
    const { tokens } = buildAdapters(stack, { source: 'graph' });
    expect(await failure(tokens.getToken(NOT_CONSENTED))).toMatchObject({
      code: 'AADSTS65001',
      kind: 'consent_revoked',
    });
    expect(await failure(tokens.getToken(NO_ROLES))).toMatchObject({
      code: 'MISSING_ROLE',
      kind: 'missing_permissions',
    });
  });

  it('tells an unknown tenant (AADSTS90002 at discovery) from an unreachable authority', async () => {
    const { tokens } = buildAdapters(stack, { source: 'graph' });
    expect(await failure(tokens.getToken(UNKNOWN))).toMatchObject({ code: 'AADSTS90002', kind: 'consent_revoked' });

    const settings = settingsOf(stack);
    const unreachable = new EntraTokenProvider({
      authorityHost: `https://127.0.0.1:${await freePort()}`,
      clientId: settings.partnerClientId,
      secretProvider: {
        getSecret: async () => ({ value: 'x', version: '1' }),
        refresh: async () => ({ value: 'x', version: '1' }),
      },
      scope: `${stack.graph.url}/.default`,
      readRoles: GRAPH_READ_ROLES,
      disableInstanceDiscovery: true,
    });
    expect(await failure(unreachable.getToken(OK))).toMatchObject({ code: 'AUTHORITY_UNREACHABLE', kind: 'transient' });
  });

  it('picks up a rotated secret without a new provider instance, with one shared vault re-read', async () => {
    const { tokens } = buildAdapters(stack, { source: 'graph' });
    await tokens.getToken(ROTATION[0]!); // reads the secret (cached for 5 minutes) and caches a token
    const readsBefore = stack.keyVault.reads;

    const rotated = `${stack.partnerSecret.slice(0, 10)}-rotated-${Date.now()}`;
    stack.keyVault.setSecret(PARTNER_SECRET_NAME, rotated);
    stack.entra.acceptSecrets(rotated);
    stack.entra.expireSecret(stack.partnerSecret);

    // Three tenants without cached tokens fail at once with the old (cached) secret, share one re-read, retry.
    const three = ROTATION.slice(1);
    const results = await Promise.all(three.map((t) => tokens.getToken(t)));
    expect(results).toHaveLength(3);
    expect(stack.keyVault.reads - readsBefore).toBe(1);
    for (const tenantId of three) {
      const outcomes = stack.entra.tokenRequests(tenantId).map((r) => [r.status, r.errorCode]);
      expect(outcomes).toEqual([
        [401, 7000222],
        [200, undefined],
      ]);
    }
  });

  it('stops after one re-read when the vault still holds the bad secret (credential_error)', async () => {
    const { tokens } = buildAdapters(stack, { source: 'graph' });
    const current = await tokens.getToken(OK).then(
      () => 'ok',
      () => 'failed',
    );
    expect(current).toBe('ok');
    const badValue = `bad-${Date.now()}`;
    stack.keyVault.setSecret(PARTNER_SECRET_NAME, badValue);
    try {
      const fresh = buildAdapters(stack, { source: 'graph' });
      const readsBefore = stack.keyVault.reads;
      const error = await failure(fresh.tokens.getToken(OTHER));
      expect(error).toMatchObject({ code: 'AADSTS7000215', kind: 'credential_error' });
      expect(error.message).not.toContain(badValue);
      expect(stack.keyVault.reads - readsBefore).toBe(2); // first read, then the one re-read
    } finally {
      // Restore an accepted secret for the other tests.
      const good = `good-${Date.now()}`;
      stack.entra.acceptSecrets(good);
      stack.keyVault.setSecret(PARTNER_SECRET_NAME, good);
    }
  });
});

describe('KeyVaultSecretProvider', () => {
  it('shares one in-flight read among concurrent callers and caches the value', async () => {
    const settings = settingsOf(stack);
    const provider = new KeyVaultSecretProvider({
      vaultUrl: settings.keyVaultUrl!,
      secretName: PARTNER_SECRET_NAME,
      credential: createAzureCredential(settings),
    });
    const before = stack.keyVault.reads;
    const values = await Promise.all(Array.from({ length: 10 }, () => provider.getSecret()));
    expect(new Set(values.map((v) => v.version)).size).toBe(1);
    expect(stack.keyVault.reads - before).toBe(1);
    await provider.getSecret();
    expect(stack.keyVault.reads - before).toBe(1);
    await Promise.all([provider.refresh(), provider.refresh()]);
    expect(stack.keyVault.reads - before).toBe(2);
  });

  it('reports a missing secret as SECRET_NOT_FOUND (credential_error)', async () => {
    const settings = settingsOf(stack);
    const provider = new KeyVaultSecretProvider({
      vaultUrl: settings.keyVaultUrl!,
      secretName: 'no-such-secret',
      credential: createAzureCredential(settings),
    });
    expect(await failure(provider.getSecret())).toMatchObject({
      code: 'SECRET_NOT_FOUND',
      kind: 'credential_error',
      status: 404,
    });
  });
});
