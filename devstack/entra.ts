/**
 * EntraSim: the authority host. OpenID discovery and JWKS per tenant, the client-credentials token endpoint
 * (RS256 JWTs signed with jose), the consent states of the simulator API, and the v2.0 admin-consent endpoint
 * playing the customer's administrator.
 * Client assertions (`client_assertion`, JWT bearer) are validated like Entra does: a certificate assertion by its
 * `x5t`/`x5t#S256` thumbprint against the certificates registered on the app, its signature, audience (the token
 * endpoint), `iss`/`sub` = client ID, expiry and `jti` replay (a `jti` seen in a different assertion; the identical
 * assertion may come again, as MSAL re-sends its cached one); a federated assertion (a token this authority issued
 * to a managed identity) by issuer + subject matching a federated credential registered on the app, and audience.
 * `GET /msi/token` is the managed-identity endpoint the Functions/App Service platform exposes
 * (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, API 2019-08-01), as the Azure SDK's `ManagedIdentityCredential` calls it.
 */
import { createHash, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import {
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { ENTRA_ERRORS } from './entraErrors.js';
import { Prng } from './prng.js';
import { json, SimServer, type RouteContext, type SimRequest, type SimResponse } from './simServer.js';

export type ConsentState = 'granted' | 'none' | 'revoked' | 'sp_missing' | 'no_roles';
export type ConsentOutcome = 'grant' | 'deny' | 'grant_without_roles';

export const VAULT_AUDIENCE = 'https://vault.azure.net';
/**
 * The Azure Monitor Logs Ingestion audience (the SDK asks for `https://monitor.azure.com/.default`). The vault
 * reader (the collector's identity locally) and the managed identities get tokens for it like for the vault: any
 * `https://…/.default` scope is issued to them with `aud` = its origin.
 */
export const MONITOR_AUDIENCE = 'https://monitor.azure.com';

export interface EntraSimOptions {
  readonly partnerClientId: string;
  readonly homeTenantId: string;
  /** The identity that reads Key Vault (stands in for the managed identity). */
  readonly readerClientId: string;
  readonly readerSecret: string;
  /** Partner secrets accepted from the start. */
  readonly partnerSecrets?: readonly string[];
}

export interface TokenRequestRecord {
  readonly tenantId: string;
  readonly clientId: string;
  readonly scope: string;
  readonly status: number;
  /** AADSTS number when refused. */
  readonly errorCode?: number;
  readonly at: number;
}

/** A federated identity credential registered on the partner app (Graph `federatedIdentityCredential`). */
export interface FederatedCredentialSpec {
  readonly issuer: string;
  readonly subject: string;
  readonly audience: string;
}

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MSI_PATH = '/msi/token';
/** Clock skew accepted on assertion `nbf`/`exp`, in seconds. */
const CLOCK_SKEW_S = 300;

interface RegisteredCertificate {
  readonly publicKey: KeyObject;
  /** base64url SHA-1 / SHA-256 of the DER certificate, as `x5t` / `x5t#S256` carry them. */
  readonly x5t: string;
  readonly x5tS256: string;
}

function certThumbprints(certPem: string): { x5t: string; x5tS256: string; publicKey: KeyObject } {
  const cert = new X509Certificate(certPem);
  return {
    x5t: createHash('sha1').update(cert.raw).digest('base64url'),
    x5tS256: createHash('sha256').update(cert.raw).digest('base64url'),
    publicKey: cert.publicKey,
  };
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ROUTE =
  /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|discovery\/v2\.0\/keys|oauth2\/v2\.0\/token|v2\.0\/adminconsent)\/?$/;
const KIND: Record<string, string> = {
  'v2.0/.well-known/openid-configuration': 'discovery',
  'discovery/v2.0/keys': 'keys',
  'oauth2/v2.0/token': 'token',
  'v2.0/adminconsent': 'adminconsent',
};

function htmlPage(status: number, title: string, message: string): SimResponse {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return {
    status,
    raw: `<!DOCTYPE html><html><head><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1><p>${escape(message)}</p></body></html>`,
  };
}

export class EntraSim extends SimServer {
  readonly partnerClientId: string;
  readonly homeTenantId: string;
  readonly readerClientId: string;
  readonly kid: string;
  private readonly readerSecret: string;
  private readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  private readonly jwk: JWK;
  private readonly consent = new Map<string, ConsentState>();
  private readonly roleOverrides = new Map<string, { roles: string[]; audience?: string }[]>();
  private readonly apiRoles = new Map<string, string[]>();
  private readonly tidOverrides = new Map<string, string | null>();
  private readonly accepted = new Set<string>();
  private readonly expired = new Set<string>();
  private readonly redirectUris = new Set<string>();
  private readonly pendingConsents: { tenantId: string; outcome: ConsentOutcome }[] = [];
  private readonly tokenLog: TokenRequestRecord[] = [];
  private tokenLifetimeSeconds = 3599;
  private readonly certificates: RegisteredCertificate[] = [];
  private readonly federatedCredentials: FederatedCredentialSpec[] = [];
  private readonly seenJti = new Map<string, { exp: number; digest: string }>();
  private readonly managedIdentities = new Map<string, string>();
  /** The `IDENTITY_HEADER` value the managed-identity endpoint requires (random per simulator). */
  readonly identityHeader = randomBytes(16).toString('hex');
  /** Managed-identity token requests answered (200). */
  managedIdentityTokens = 0;
  /** Told every client assertion presented to the token endpoint (the secret-hygiene scan collects them). */
  onClientAssertion?: (assertion: string) => void;

  private constructor(
    options: EntraSimOptions,
    keys: { privateKey: CryptoKey; publicKey: CryptoKey; jwk: JWK; kid: string },
  ) {
    super();
    this.partnerClientId = options.partnerClientId.toLowerCase();
    this.homeTenantId = options.homeTenantId.toLowerCase();
    this.readerClientId = options.readerClientId.toLowerCase();
    this.readerSecret = options.readerSecret;
    this.privateKey = keys.privateKey;
    this.publicKey = keys.publicKey;
    this.jwk = keys.jwk;
    this.kid = keys.kid;
    for (const s of options.partnerSecrets ?? []) this.accepted.add(s);
  }

  static async create(options: EntraSimOptions): Promise<EntraSim> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const jwk = await exportJWK(publicKey);
    const kid = new Prng(`${options.partnerClientId}:kid`).hex(40).toUpperCase();
    return new EntraSim(options, { privateKey, publicKey, jwk: { ...jwk, kid, use: 'sig', alg: 'RS256' }, kid });
  }

  /** Makes the tenant known (unknown tenants answer AADSTS90002). */
  setTenantConsent(tenantId: string, state: ConsentState): void {
    this.consent.set(tenantId.toLowerCase(), state);
  }

  consentOf(tenantId: string): ConsentState | undefined {
    return this.consent.get(tenantId.toLowerCase());
  }

  /** Roles put in this tenant's tokens (for every API audience, or only `audience` when given). */
  setTenantRoles(tenantId: string, roles: string[], audience?: string): void {
    const id = tenantId.toLowerCase();
    const list = (this.roleOverrides.get(id) ?? []).filter((o) => o.audience !== audience);
    list.push({ roles: [...roles], ...(audience !== undefined ? { audience } : {}) });
    this.roleOverrides.set(id, list);
  }

  /** Default roles granted by consent for an API audience (the stack registers Graph and legacy). */
  registerApi(audience: string, defaultRoles: string[]): void {
    this.apiRoles.set(new URL(audience).origin, [...defaultRoles]);
  }

  /** Tokens for `tenantId` carry `tid` = otherTenantId, or no `tid` when null (isolation tests). */
  issueTokensFor(tenantId: string, otherTenantId: string | null): void {
    this.tidOverrides.set(tenantId.toLowerCase(), otherTenantId);
  }

  acceptSecrets(...values: string[]): void {
    for (const v of values) {
      this.accepted.add(v);
      this.expired.delete(v);
    }
  }

  expireSecret(value: string): void {
    this.expired.add(value);
  }

  tokenRequests(tenantId?: string): TokenRequestRecord[] {
    return tenantId === undefined
      ? [...this.tokenLog]
      : this.tokenLog.filter((r) => r.tenantId === tenantId.toLowerCase());
  }

  /** Register a certificate (PEM) on the partner app: assertions signed by its key are accepted. */
  registerCertificate(certPem: string): void {
    const { x5t, x5tS256, publicKey } = certThumbprints(certPem);
    if (!this.certificates.some((c) => c.x5t === x5t)) this.certificates.push({ publicKey, x5t, x5tS256 });
  }

  /** Remove a certificate from the partner app (rotation's last step). */
  removeCertificate(certPem: string): void {
    const { x5t } = certThumbprints(certPem);
    const i = this.certificates.findIndex((c) => c.x5t === x5t);
    if (i >= 0) this.certificates.splice(i, 1);
  }

  /** Register a federated identity credential on the partner app. */
  addFederatedCredential(spec: FederatedCredentialSpec): void {
    this.federatedCredentials.push({ ...spec });
  }

  /** Remove every federated identity credential from the partner app. */
  clearFederatedCredentials(): void {
    this.federatedCredentials.length = 0;
  }

  /** The issuer of this authority's tokens for its home tenant (managed-identity tokens carry it). */
  get homeIssuer(): string {
    return `${this.url}/${this.homeTenantId}/v2.0`;
  }

  /** The managed-identity endpoint (`IDENTITY_ENDPOINT`). */
  get identityEndpoint(): string {
    return `${this.url}${MSI_PATH}`;
  }

  /** Create a user-assigned managed identity in the home tenant; returns its principal (object) ID. */
  addManagedIdentity(clientId: string): string {
    const principalId = new Prng(`${clientId}:principal`).guid();
    this.managedIdentities.set(clientId.toLowerCase(), principalId);
    return principalId;
  }

  /** Which administrator answers the next admin-consent request, and how. */
  nextConsent(decision: { tenantId: string; outcome: ConsentOutcome }): void {
    this.pendingConsents.push({ tenantId: decision.tenantId.toLowerCase(), outcome: decision.outcome });
  }

  /** Redirect URIs registered on the partner app (besides any …/api/consent/callback). */
  addRedirectUri(uri: string): void {
    this.redirectUris.add(uri);
  }

  /** `expires_in` and `exp` of issued tokens (default 3599 s; short values let tests see expiry). */
  setTokenLifetime(seconds: number): void {
    this.tokenLifetimeSeconds = seconds;
  }

  protected override tenantOf(path: string): string | undefined {
    return ROUTE.exec(path)?.[1]?.toLowerCase();
  }

  /**
   * `latencyMs` is the latency of a token (the benchmarks' `tokenMs`): it is added to the token endpoints only
   * (`token`, `managed_identity`). The OpenID discovery document and the keys answer at once: MSAL carries the
   * endpoints of Microsoft's own clouds built in and fetches the document only from an authority it does not know —
   * this stand-in on 127.0.0.1, once per tenant — so delaying it would charge every tenant a second token latency
   * that a deployed collector never waits for.
   */
  protected override latencyFor(req: SimRequest): number {
    return req.kind === 'token' || req.kind === 'managed_identity' ? this.latencyMs : 0;
  }

  protected kindOf(_method: string, path: string): string | undefined {
    if (path === MSI_PATH) return 'managed_identity';
    const m = ROUTE.exec(path);
    return m?.[2] ? KIND[m[2]] : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    const m = ROUTE.exec(ctx.req.path);
    const tenant = m?.[1]?.toLowerCase() ?? '';
    switch (ctx.req.kind) {
      case 'managed_identity':
        return this.managedIdentityToken(ctx.req.query, ctx.headers);
      case 'discovery':
        return ctx.req.method === 'GET' ? this.discovery(tenant) : json(405, {});
      case 'keys':
        return json(200, { keys: [this.jwk] });
      case 'token':
        return ctx.req.method === 'POST' ? this.token(tenant, ctx.body, ctx.headers) : json(405, {});
      case 'adminconsent':
        return this.adminConsent(tenant, ctx.req.query);
      default:
        return json(404, { error: 'not_found', error_description: `No route for ${ctx.req.path}` });
    }
  }

  private isKnownTenant(tenant: string): boolean {
    return (
      tenant === this.homeTenantId || this.consent.has(tenant) || tenant === 'organizations' || tenant === 'common'
    );
  }

  private discovery(tenant: string): SimResponse {
    if (!this.isKnownTenant(tenant)) return ENTRA_ERRORS.discoveryTenantNotFound(tenant);
    const base = `${this.url}/${tenant}`;
    return json(200, {
      token_endpoint: `${base}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${this.url}/oidc/userinfo`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'tid', 'roles'],
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    });
  }

  private async token(tenant: string, body: string, headers: IncomingMessage['headers']): Promise<SimResponse> {
    const form = new URLSearchParams(body);
    const basic = /^Basic\s+(\S+)$/i.exec(headers.authorization ?? '')?.[1];
    const [basicId, basicSecret] = basic
      ? Buffer.from(basic, 'base64').toString('utf8').split(':').map(decodeURIComponent)
      : [];
    const clientId = (form.get('client_id') ?? basicId ?? '').toLowerCase();
    const secret = form.get('client_secret') ?? basicSecret;
    const scope = form.get('scope') ?? '';
    const assertion =
      form.get('client_assertion_type') === JWT_BEARER ? (form.get('client_assertion') ?? undefined) : undefined;
    if (assertion !== undefined) this.onClientAssertion?.(assertion);
    const answer = await this.decideToken(tenant, form.get('grant_type') ?? '', clientId, secret, scope, assertion);
    const code = (answer.body as { error_codes?: number[] } | undefined)?.error_codes?.[0];
    this.tokenLog.push({
      tenantId: tenant,
      clientId,
      scope,
      status: answer.status,
      ...(code !== undefined ? { errorCode: code } : {}),
      at: Date.now(),
    });
    return answer;
  }

  private async decideToken(
    tenant: string,
    grantType: string,
    clientId: string,
    secret: string | undefined,
    scope: string,
    assertion?: string,
  ): Promise<SimResponse> {
    if (grantType !== 'client_credentials') return ENTRA_ERRORS.unsupportedGrant();
    if (!this.isKnownTenant(tenant) || tenant === 'organizations' || tenant === 'common')
      return ENTRA_ERRORS.tenantNotFound(tenant);
    const audience = audienceOf(scope);
    if (!audience) return ENTRA_ERRORS.invalidScope(scope);
    if ((secret === undefined || secret === '') && assertion === undefined) return ENTRA_ERRORS.missingSecret();
    if (clientId === this.readerClientId) {
      if (tenant !== this.homeTenantId) return ENTRA_ERRORS.appNotFound(clientId, tenant);
      if (secret !== this.readerSecret) return ENTRA_ERRORS.invalidSecret(clientId);
      return this.issue(tenant, clientId, audience, []);
    }
    if (clientId !== this.partnerClientId) return ENTRA_ERRORS.appNotFound(clientId, tenant);
    const state = this.consent.get(tenant) ?? 'none';
    if (state === 'none') return ENTRA_ERRORS.notConsented(clientId);
    if (state === 'revoked') return ENTRA_ERRORS.appNotFound(clientId, tenant);
    if (state === 'sp_missing') return ENTRA_ERRORS.servicePrincipalMissing(clientId, tenant);
    if (assertion !== undefined) {
      const refused = await this.checkAssertion(tenant, clientId, assertion);
      if (refused) return refused;
    } else {
      if (secret === undefined || this.expired.has(secret)) return ENTRA_ERRORS.expiredSecret(clientId);
      if (!this.accepted.has(secret)) return ENTRA_ERRORS.invalidSecret(clientId);
    }
    return this.issue(tenant, clientId, audience, state === 'no_roles' ? [] : this.rolesFor(tenant, audience));
  }

  /** Undefined when the client assertion is accepted; otherwise Entra's refusal. */
  private async checkAssertion(tenant: string, clientId: string, assertion: string): Promise<SimResponse | undefined> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
      decodeJwt(assertion);
    } catch {
      return ENTRA_ERRORS.assertionMalformed('the client assertion is not a JWT');
    }
    if (header.kid === this.kid && header.x5t === undefined) return this.checkFederatedAssertion(assertion);
    const x5tS256 = typeof header['x5t#S256'] === 'string' ? header['x5t#S256'] : undefined;
    const x5t = typeof header.x5t === 'string' ? header.x5t : undefined;
    if (x5t === undefined && x5tS256 === undefined)
      return ENTRA_ERRORS.assertionMalformed("the client assertion header has no 'x5t' or 'x5t#S256'");
    const shown = Buffer.from((x5t ?? x5tS256) as string, 'base64url')
      .toString('hex')
      .toUpperCase();
    const cert = this.certificates.find((c) => (x5tS256 !== undefined ? c.x5tS256 === x5tS256 : c.x5t === x5t));
    if (!cert) return ENTRA_ERRORS.assertionBadSignature(clientId, shown);
    let claims: Record<string, unknown>;
    try {
      // Entra tolerates five minutes of clock skew (MSAL may round `nbf` up to the next second).
      claims = (
        await jwtVerify(assertion, cert.publicKey, { algorithms: ['RS256', 'PS256'], clockTolerance: CLOCK_SKEW_S })
      ).payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return ENTRA_ERRORS.assertionExpired();
      return ENTRA_ERRORS.assertionBadSignature(clientId, shown);
    }
    const expectedAudience = `${this.url}/${tenant}/oauth2/v2.0/token`;
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.some((a) => typeof a === 'string' && a.toLowerCase() === expectedAudience.toLowerCase()))
      return ENTRA_ERRORS.assertionAudience(expectedAudience);
    if (String(claims.iss).toLowerCase() !== clientId || String(claims.sub).toLowerCase() !== clientId)
      return ENTRA_ERRORS.assertionClientMismatch();
    if (typeof claims.exp !== 'number') return ENTRA_ERRORS.assertionMalformed("the client assertion has no 'exp'");
    const jti = claims.jti;
    if (typeof jti !== 'string' || jti === '')
      return ENTRA_ERRORS.assertionMalformed("the client assertion has no 'jti'");
    // Replay: MSAL re-sends its cached signed assertion until it nears expiry and Entra accepts that, so the same
    // assertion may come again; a `jti` seen in a *different* assertion is a replayed identifier and is refused.
    const nowSeconds = Math.floor(Date.now() / 1000);
    for (const [seen, entry] of this.seenJti) if (entry.exp + CLOCK_SKEW_S < nowSeconds) this.seenJti.delete(seen);
    const digest = createHash('sha256').update(assertion).digest('base64url');
    const seen = this.seenJti.get(jti);
    if (seen !== undefined && seen.digest !== digest) return ENTRA_ERRORS.assertionReplayed();
    this.seenJti.set(jti, { exp: claims.exp, digest });
    return undefined;
  }

  /** A managed-identity token as the assertion: issuer + subject must match a federated credential, then audience. */
  private async checkFederatedAssertion(assertion: string): Promise<SimResponse | undefined> {
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(assertion, this.publicKey, { algorithms: ['RS256'], clockTolerance: CLOCK_SKEW_S }))
        .payload;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) return ENTRA_ERRORS.assertionExpired();
      return ENTRA_ERRORS.assertionMalformed('the federated assertion signature does not verify');
    }
    const issuer = String(claims.iss ?? '');
    const subject = String(claims.sub ?? '');
    const audience = String(Array.isArray(claims.aud) ? claims.aud[0] : (claims.aud ?? ''));
    const match = this.federatedCredentials.find((f) => f.issuer === issuer && f.subject === subject);
    if (!match) return ENTRA_ERRORS.noFederatedMatch(issuer, subject, audience);
    if (match.audience !== audience) return ENTRA_ERRORS.noFederatedAudience(audience);
    return undefined;
  }

  /** `GET /msi/token?api-version=2019-08-01&resource=…&client_id=…` with `X-IDENTITY-HEADER`. */
  private async managedIdentityToken(
    query: URLSearchParams,
    headers: IncomingMessage['headers'],
  ): Promise<SimResponse> {
    if (headers['x-identity-header'] !== this.identityHeader)
      return json(401, { statusCode: 401, message: 'Unauthorized: X-IDENTITY-HEADER is missing or wrong.' });
    const resource = query.get('resource') ?? '';
    const clientId = (query.get('client_id') ?? '').toLowerCase();
    const principalId = this.managedIdentities.get(clientId);
    if (resource === '' || principalId === undefined)
      return json(400, {
        statusCode: 400,
        message: `No managed identity with client ID '${clientId}' is assigned to this app, or no resource was given.`,
      });
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.tokenLifetimeSeconds;
    const token = await new SignJWT({ tid: this.homeTenantId, oid: principalId, appid: clientId, idtyp: 'app' })
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setAudience(resource)
      .setIssuer(this.homeIssuer)
      .setSubject(principalId)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(exp)
      .sign(this.privateKey);
    this.managedIdentityTokens += 1;
    return json(200, {
      access_token: token,
      expires_on: String(exp),
      resource,
      token_type: 'Bearer',
      client_id: clientId,
    });
  }

  private rolesFor(tenant: string, audience: string): string[] {
    const overrides = this.roleOverrides.get(tenant) ?? [];
    const specific = overrides.find((o) => o.audience !== undefined && new URL(o.audience).origin === audience);
    const general = overrides.find((o) => o.audience === undefined);
    return (specific ?? general)?.roles ?? this.apiRoles.get(audience) ?? [];
  }

  private async issue(tenant: string, clientId: string, audience: string, roles: string[]): Promise<SimResponse> {
    const tid = this.tidOverrides.has(tenant) ? this.tidOverrides.get(tenant) : tenant;
    const oid = new Prng(`${clientId}:${tenant}:oid`).guid();
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      ...(tid !== null && tid !== undefined ? { tid } : {}),
      ...(roles.length > 0 ? { roles } : {}),
      appid: clientId,
      azp: clientId,
      appidacr: '1',
      azpacr: '1',
      oid,
      idtyp: 'app',
      ver: '2.0',
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: this.kid, typ: 'JWT' })
      .setAudience(audience)
      .setIssuer(`${this.url}/${tid ?? tenant}/v2.0`)
      .setSubject(oid)
      .setIssuedAt(now)
      .setNotBefore(now - 300)
      .setExpirationTime(now + this.tokenLifetimeSeconds)
      .sign(this.privateKey);
    return json(200, {
      token_type: 'Bearer',
      expires_in: this.tokenLifetimeSeconds,
      ext_expires_in: this.tokenLifetimeSeconds,
      access_token: token,
    });
  }

  private adminConsent(pathTenant: string, query: URLSearchParams): SimResponse {
    const clientId = (query.get('client_id') ?? '').toLowerCase();
    const redirectUri = query.get('redirect_uri') ?? '';
    const state = query.get('state');
    const scope = query.get('scope') ?? '';
    if (clientId !== this.partnerClientId) {
      return htmlPage(
        400,
        'Sorry, but we’re having trouble signing you in.',
        `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`,
      );
    }
    if (!this.isRegisteredRedirect(redirectUri)) {
      return htmlPage(
        400,
        'Sorry, but we’re having trouble signing you in.',
        `AADSTS50011: The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${clientId}'.`,
      );
    }
    const decision =
      this.pendingConsents.shift() ??
      (GUID.test(pathTenant) ? { tenantId: pathTenant, outcome: 'grant' as const } : undefined);
    if (!decision)
      return htmlPage(
        400,
        'Pick an account',
        'No administrator is signed in (call entra.nextConsent first for an organizations link).',
      );
    const target = new URL(redirectUri);
    target.searchParams.set('admin_consent', 'True');
    if (decision.outcome === 'deny') {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'AADSTS65004: User declined to consent to access the app.');
    } else {
      this.setTenantConsent(decision.tenantId, decision.outcome === 'grant' ? 'granted' : 'no_roles');
      target.searchParams.set('tenant', decision.tenantId);
      target.searchParams.set('scope', scope);
    }
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, raw: '', headers: { location: target.toString() } };
  }

  private isRegisteredRedirect(uri: string): boolean {
    if (this.redirectUris.has(uri)) return true;
    try {
      const u = new URL(uri);
      return (
        (u.protocol === 'https:' || u.hostname === '127.0.0.1' || u.hostname === 'localhost') &&
        u.pathname.endsWith('/api/consent/callback')
      );
    } catch {
      return false;
    }
  }
}

/** `https://host[:port]/.default` → `https://host[:port]`; anything else is not a client-credentials scope. */
function audienceOf(scope: string): string | undefined {
  const scopes = scope.split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
  if (scopes.length !== 1 || !scopes[0]?.endsWith('/.default')) return undefined;
  try {
    return new URL(scopes[0].slice(0, -'/.default'.length)).origin;
  } catch {
    return undefined;
  }
}
