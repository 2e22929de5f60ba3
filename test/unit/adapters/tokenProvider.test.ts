/**
 * EntraTokenProvider's per-tenant credential cache, with an in-memory partner credential (no network): a tenant's
 * calls reuse its credential, the cache keeps at most `maxCachedTenants` (least recently used dropped first), and
 * credentials whose token expired are dropped when a new one is made.
 */
import { describe, expect, it } from '@jest/globals';
import type { AccessToken, TokenCredential } from '@azure/identity';
import type { PartnerCredentialMaterial, PartnerCredentialSource } from '../../../shared/adapters/partnerCredential.js';
import { EntraTokenProvider } from '../../../shared/adapters/tokenProvider.js';

const ROLE = 'SecurityIncident.Read.All';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'none' })}.${b64(claims)}.c2ln`;

/** A partner credential whose SDK credentials are counted per tenant and give tokens valid for `lifetimeMs`. */
function fakeSource(clock: { now: number }, lifetimeMs: number) {
  const made: string[] = [];
  const material: PartnerCredentialMaterial = {
    kind: 'secret',
    version: 'v1',
    credentialFor(tenantId: string): TokenCredential {
      made.push(tenantId);
      return {
        getToken: async (): Promise<AccessToken> => ({
          token: jwt({ tid: tenantId, roles: [ROLE] }),
          expiresOnTimestamp: clock.now + lifetimeMs,
        }),
      };
    },
  };
  const source: PartnerCredentialSource = {
    kind: 'secret',
    current: async () => material,
    refresh: async () => material,
  };
  return { source, made };
}

function provider(source: PartnerCredentialSource, clock: { now: number }, maxCachedTenants?: number) {
  return new EntraTokenProvider({
    authorityHost: 'https://login.example',
    clientId: 'client',
    credentialSource: source,
    scope: 'https://graph.example/.default',
    readRoles: [ROLE],
    now: () => clock.now,
    ...(maxCachedTenants !== undefined ? { maxCachedTenants } : {}),
  });
}

describe('EntraTokenProvider credential cache', () => {
  it("reuses a tenant's credential and drops the least recently used beyond maxCachedTenants", async () => {
    const clock = { now: 0 };
    const { source, made } = fakeSource(clock, 3_600_000);
    const tokens = provider(source, clock, 2);
    await tokens.getToken('a');
    await tokens.getToken('b');
    await tokens.getToken('a'); // a is now the most recently used
    expect(made).toEqual(['a', 'b']);
    await tokens.getToken('c'); // over 2: b goes, not a
    await tokens.getToken('a');
    expect(made).toEqual(['a', 'b', 'c']);
    await tokens.getToken('b');
    expect(made).toEqual(['a', 'b', 'c', 'b']);
  });

  it('drops credentials whose token has expired when a new one is made, and keeps valid ones', async () => {
    const clock = { now: 0 };
    const { source, made } = fakeSource(clock, 60_000);
    const tokens = provider(source, clock);
    await tokens.getToken('old');
    clock.now = 30_000;
    await tokens.getToken('recent');
    clock.now = 70_000; // old's token has expired, recent's has not
    await tokens.getToken('new');
    await tokens.getToken('recent');
    expect(made).toEqual(['old', 'recent', 'new']);
    await tokens.getToken('old');
    expect(made).toEqual(['old', 'recent', 'new', 'old']);
  });

  it('refuses a maxCachedTenants below 1, naming it', () => {
    const clock = { now: 0 };
    expect(() => provider(fakeSource(clock, 1).source, clock, 0)).toThrow(/maxCachedTenants/);
  });
});
