/**
 * Access tokens for customer tenants, checked before use (design §6 step 2, §7).
 * One Azure SDK credential per (tenant, credential version) — the token cache lives inside it; its kind follows
 * `PARTNER_CREDENTIAL` (secret, certificate or federated, see partnerCredential.ts). Kept while its token is valid,
 * for at most `maxCachedTenants` tenants (least recently used dropped first): each weighs about 28 KB of heap with
 * its token (MSAL application, caches, pipeline), so a worker that meets every tenant of a large fleet over its life
 * would otherwise grow without bound under the deployed heap cap.
 * A refused partner credential (bad or expired secret, refused client assertion) makes the provider re-read the
 * credential once, shared by every tenant failing at the same time, and retry only when the vault holds a new
 * version (for `federated`, a fresh managed-identity token is fetched once).
 */
import type { TokenCredential } from '@azure/identity';
import got from 'got';
import { CollectorError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import type { PartnerCredentialRecord } from '../domain/partnerCredential.js';
import type { Logger, PageOptions, SecretProvider, TokenProvider } from '../ports.js';
import {
  describeMaterial,
  SecretCredentialSource,
  type PartnerCredentialMaterial,
  type PartnerCredentialSource,
} from './partnerCredential.js';
import { verifyTokenClaims, verifyTokenTenant } from './tokenClaims.js';
import { aadstsCodes, classifyTokenFailure, tokenError, tokenFailureFacts } from './tokenFailure.js';

export { verifyTokenClaims } from './tokenClaims.js';

/** What the tenant's OpenID discovery document says when MSAL could not resolve its endpoints. */
export type DiscoveryCheck = (authorityHost: string, tenantId: string) => Promise<CollectorError>;

export interface EntraTokenProviderOptions {
  readonly authorityHost: string;
  readonly clientId: string;
  /** The partner credential (any kind). When absent, `secretProvider` is used as a client secret. */
  readonly credentialSource?: PartnerCredentialSource;
  /** The client secret (kind `secret`), when no `credentialSource` is given. */
  readonly secretProvider?: SecretProvider;
  /** `{origin of the API}/.default` */
  readonly scope: string;
  readonly readRoles: readonly string[];
  /** True for a non-Microsoft authority (a local stand-in). */
  readonly disableInstanceDiscovery?: boolean;
  /** How long a confirmed-bad secret version is not re-read again (default 60 s): 1,000 tenants, one vault read. */
  readonly refreshMemoMs?: number;
  /**
   * Tenants whose SDK credential (and cached token) is kept at most (default DEFAULT_MAX_CACHED_TENANTS); beyond it
   * the least recently used is dropped, and when a new one is made, the least recently used ones whose token has
   * expired go too. A dropped tenant gets a new credential and token request when it comes back.
   */
  readonly maxCachedTenants?: number;
  readonly discoveryCheck?: DiscoveryCheck;
  readonly now?: () => number;
  /** Told when the secret is re-read after `invalid_client` (versions only, never values). */
  readonly logger?: Logger;
}

interface TenantCredential {
  readonly version: string;
  readonly credential: TokenCredential;
  /** Epoch ms the last token it gave expires (undefined until it gave one). */
  expiresAt?: number;
}

/**
 * Default `maxCachedTenants`: about 28 MB of credentials and tokens, far above the tenants one process has in flight
 * (TENANT_CONCURRENCY), so a tenant's pages always reuse its token; an hourly fleet larger than this re-requests
 * tokens it would mostly have had to renew anyway (a token lives 60–90 minutes).
 */
export const DEFAULT_MAX_CACHED_TENANTS = 1_000;

export class EntraTokenProvider implements TokenProvider {
  private readonly options: EntraTokenProviderOptions;
  /** Per tenant, least recently used first (a Map keeps insertion order; a use re-inserts). */
  private readonly credentials = new Map<string, TenantCredential>();
  private readonly maxCachedTenants: number;
  private refreshing?: { forVersion: string; result: Promise<PartnerCredentialMaterial>; settledAt?: number };
  private readonly now: () => number;
  private readonly source: PartnerCredentialSource;

  constructor(options: EntraTokenProviderOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.maxCachedTenants = options.maxCachedTenants ?? DEFAULT_MAX_CACHED_TENANTS;
    if (!Number.isInteger(this.maxCachedTenants) || this.maxCachedTenants < 1)
      throw new RangeError(`maxCachedTenants must be a whole number ≥ 1, not ${this.maxCachedTenants}.`);
    if (options.credentialSource !== undefined) this.source = options.credentialSource;
    else if (options.secretProvider !== undefined)
      this.source = new SecretCredentialSource(options.secretProvider, {
        clientId: options.clientId,
        authorityHost: options.authorityHost,
        ...(options.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
      });
    else throw new TypeError('EntraTokenProvider needs a credentialSource or a secretProvider.');
  }

  /**
   * Read the partner credential (cached, like a token request would) and describe it: kind, Key Vault name and
   * version, expiry. Throws the CollectorError of a failed Key Vault read (e.g. SECRET_NOT_FOUND, CERTIFICATE_INVALID).
   */
  async describeCredential(): Promise<PartnerCredentialRecord> {
    return describeMaterial(await this.source.current(), new Date(this.now()));
  }

  /**
   * Prove the partner credential with one token request against `tenantId` (the partner's home tenant for
   * `credentials check`): a fresh SDK credential, no cached token, no role check (the home tenant need not grant
   * the read role). Resolves when Entra issued a token for that tenant; throws the classified CollectorError.
   */
  async proveCredential(tenantId: string): Promise<PartnerCredentialRecord> {
    const material = await this.source.current();
    try {
      const access = await material.credentialFor(tenantId).getToken(this.options.scope);
      if (!access) throw new Error('credential_unavailable: the credential returned no token');
      verifyTokenTenant(access.token, tenantId);
    } catch (error) {
      throw await this.classify(tenantId, error);
    }
    return describeMaterial(material, new Date(this.now()));
  }

  async getToken(tenantId: string, options?: PageOptions): Promise<string> {
    const secret = await this.source.current();
    try {
      return await this.tokenWith(tenantId, secret, options);
    } catch (error) {
      if (!isBadSecret(error)) throw error;
      const fresh = await this.refreshSecret(secret.version);
      if (fresh.version === secret.version) {
        this.options.logger?.warn('secret.still_rejected', { tenantId, errorCode: (error as CollectorError).code });
        throw error;
      }
      this.options.logger?.info('secret.rotated', { tenantId, errorCode: (error as CollectorError).code });
      return this.tokenWith(tenantId, fresh, options);
    }
  }

  private async tokenWith(tenantId: string, secret: PartnerCredentialMaterial, options?: PageOptions): Promise<string> {
    const entry = this.credentialFor(tenantId, secret);
    let token: string;
    try {
      const access = await entry.credential.getToken(
        this.options.scope,
        options?.signal ? { abortSignal: options.signal } : {},
      );
      if (!access) throw new Error('credential_unavailable: the credential returned no token');
      token = access.token;
      entry.expiresAt = access.expiresOnTimestamp;
    } catch (error) {
      throw await this.classify(tenantId, error);
    }
    try {
      verifyTokenClaims(token, tenantId, this.options.readRoles);
    } catch (error) {
      // A token without the role is useless until the admin consents; drop the credential (and its token cache) so
      // the next attempt asks Entra afresh and sees the consent as soon as it arrives (INCIDENT_SOURCE=auto).
      this.credentials.delete(tenantId);
      throw error;
    }
    return token;
  }

  /**
   * One credential per tenant, replaced when the credential version changes (its token cache goes with it), and
   * moved to the most recently used end. Making a new one first drops credentials whose token has expired (from the
   * least recently used end, where they gather) and, over `maxCachedTenants`, the least recently used.
   */
  private credentialFor(tenantId: string, secret: PartnerCredentialMaterial): TenantCredential {
    const existing = this.credentials.get(tenantId);
    if (existing) this.credentials.delete(tenantId);
    if (existing && existing.version === secret.version) {
      this.credentials.set(tenantId, existing);
      return existing;
    }
    const now = this.now();
    for (const [id, cached] of this.credentials) {
      const expired = cached.expiresAt !== undefined && cached.expiresAt <= now;
      if (!expired && this.credentials.size < this.maxCachedTenants) break;
      this.credentials.delete(id);
    }
    const entry: TenantCredential = { version: secret.version, credential: secret.credentialFor(tenantId) };
    this.credentials.set(tenantId, entry);
    return entry;
  }

  /**
   * Re-read the secret after `invalid_client` with `failedVersion`. Concurrent failures share one read, and a
   * read that just confirmed the same version is reused for a short while instead of hitting the vault again.
   */
  private refreshSecret(failedVersion: string): Promise<PartnerCredentialMaterial> {
    const current = this.refreshing;
    const memoMs = this.options.refreshMemoMs ?? 60_000;
    if (
      current &&
      current.forVersion === failedVersion &&
      (current.settledAt === undefined || this.now() - current.settledAt < memoMs)
    ) {
      return current.result;
    }
    const entry: { forVersion: string; result: Promise<PartnerCredentialMaterial>; settledAt?: number } = {
      forVersion: failedVersion,
      result: this.source.refresh(),
    };
    entry.result.then(
      () => {
        entry.settledAt = this.now();
      },
      () => {
        if (this.refreshing === entry) this.refreshing = undefined;
      },
    );
    this.refreshing = entry;
    return entry.result;
  }

  private async classify(tenantId: string, error: unknown): Promise<CollectorError> {
    const own = collectorErrorIn(error);
    if (own !== undefined) return own;
    const facts = tokenFailureFacts(error);
    if (facts.endpointsUnresolved) {
      // MSAL reports an unknown tenant and an unreachable authority alike; the discovery document tells them apart.
      return (this.options.discoveryCheck ?? checkDiscovery)(this.options.authorityHost, tenantId);
    }
    return tokenError(tenantId, facts);
  }
}

/** A CollectorError thrown by our own code inside the SDK (e.g. the federated assertion callback), maybe wrapped. */
function collectorErrorIn(error: unknown): CollectorError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    if (current instanceof CollectorError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** A refused partner credential (secret or assertion): the only token failure worth re-reading the vault for. */
function isBadSecret(error: unknown): boolean {
  return (
    error instanceof CollectorError &&
    error.kind === 'credential_error' &&
    error.code !== ErrorCode.TOKEN_TENANT_MISMATCH &&
    error.code !== ErrorCode.TOKEN_MALFORMED
  );
}

/**
 * Fetch the tenant's OpenID configuration ourselves: 400 `invalid_tenant` / AADSTS90002 → the tenant does not
 * exist in this cloud (consent_revoked, code AADSTS90002); no answer → the authority is unreachable (transient).
 */
export async function checkDiscovery(authorityHost: string, tenantId: string): Promise<CollectorError> {
  const url = `${authorityHost.replace(/\/+$/, '')}/${encodeURIComponent(tenantId)}/v2.0/.well-known/openid-configuration`;
  try {
    const response = await got.get(url, {
      throwHttpErrors: false,
      retry: { limit: 1 },
      timeout: { request: 15_000 },
      responseType: 'text',
    });
    if (response.statusCode === 200) {
      return new CollectorError(
        `Token request for tenant ${tenantId} failed: the authority's endpoints could not be resolved, although discovery answers now.`,
        { code: ErrorCode.ENDPOINTS_RESOLUTION_ERROR, kind: 'transient' },
      );
    }
    const body = parseJson(response.body);
    const oauthError = typeof body?.error === 'string' ? body.error : undefined;
    const description = typeof body?.error_description === 'string' ? body.error_description : '';
    const codes = Array.isArray(body?.error_codes)
      ? body.error_codes.filter((c): c is number => typeof c === 'number')
      : aadstsCodes(description);
    const { code, kind } =
      codes.includes(90002) || oauthError === 'invalid_tenant'
        ? { code: 'AADSTS90002', kind: 'consent_revoked' as const }
        : classifyTokenFailure(oauthError, codes, response.statusCode);
    const facts = tokenFailureFacts({
      message: description,
      errorResponse: { ...(oauthError ? { error: oauthError } : {}), errorDescription: description },
    });
    const what = [oauthError, facts.summary].filter(Boolean).join(': ');
    return new CollectorError(
      `Token request for tenant ${tenantId} failed at discovery (HTTP ${response.statusCode})${what ? `: ${what}` : ''}`,
      { code, kind, status: response.statusCode },
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return new CollectorError(
      `Token request for tenant ${tenantId} failed: the authority ${new URL(authorityHost).host} is unreachable (${typeof code === 'string' ? code : 'network error'}).`,
      { code: ErrorCode.AUTHORITY_UNREACHABLE, kind: 'transient' },
    );
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
