/**
 * The partner app's credential, per `PARTNER_CREDENTIAL` (design §3): what the token provider builds one Azure SDK
 * credential per tenant from, and what it re-reads once after Entra refuses it (design §7).
 * - `secret`: `ClientSecretCredential` with the Key Vault secret (or the local `PARTNER_CLIENT_SECRET`);
 * - `certificate`: `ClientCertificateCredential` with the Key Vault certificate, read versionless through its secret
 *   (PEM, or PKCS#12 converted to PEM once per version), always sending the certificate chain (`x5c`) so
 *   subject-name/issuer trust works;
 * - `federated`: `ClientAssertionCredential` whose assertion is the user-assigned managed identity's token for the
 *   cloud's token-exchange audience (no secret exists anywhere).
 * Private keys and assertions are registered with the log redactor and never appear in messages.
 */
import {
  ClientAssertionCredential,
  ClientCertificateCredential,
  ClientSecretCredential,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import forge from 'node-forge';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { CollectorError, isTransientNetworkCode } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import type { PartnerCredentialRecord } from '../domain/partnerCredential.js';
import { registerSecret } from '../log.js';
import type { SecretProvider } from '../ports.js';

export type { PartnerCredentialRecord } from '../domain/partnerCredential.js';

/** Where and how the per-tenant credentials authenticate. */
export interface PartnerAuthority {
  /** Application (client) ID of the partner's multi-tenant app. */
  readonly clientId: string;
  readonly authorityHost: string;
  /** True for a non-Microsoft authority (a local stand-in). */
  readonly disableInstanceDiscovery?: boolean;
}

/** One version of the partner credential, able to build a credential for any tenant. */
export interface PartnerCredentialMaterial {
  readonly kind: PartnerCredentialRecord['kind'];
  /** Key Vault item name, when the credential lives there. */
  readonly name?: string;
  /** Changes on rotation; the token provider rebuilds its per-tenant credentials when it does. */
  readonly version: string;
  /** Key Vault `expiresOn`, when known. */
  readonly expiresOn?: Date;
  /** A new Azure SDK credential for `tenantId` (its token cache lives inside it). */
  credentialFor(tenantId: string): TokenCredential;
}

/** The current partner credential: cached read, and a forced re-read after Entra refused it. */
export interface PartnerCredentialSource {
  readonly kind: PartnerCredentialRecord['kind'];
  current(): Promise<PartnerCredentialMaterial>;
  refresh(): Promise<PartnerCredentialMaterial>;
}

/** What a material says about itself, for the Runs row, logs and `credentials check`. */
export function describeMaterial(material: PartnerCredentialMaterial, checkedAt: Date): PartnerCredentialRecord {
  return {
    kind: material.kind,
    ...(material.name !== undefined ? { name: material.name } : {}),
    version: material.version,
    ...(material.expiresOn !== undefined ? { expiresOn: material.expiresOn.toISOString() } : {}),
    checkedAt: checkedAt.toISOString(),
  };
}

function sdkOptions(authority: PartnerAuthority) {
  return {
    authorityHost: authority.authorityHost,
    ...(authority.disableInstanceDiscovery ? { disableInstanceDiscovery: true } : {}),
  };
}

/** `secret`: the Key Vault secret (or `PARTNER_CLIENT_SECRET`) as a client secret. */
export class SecretCredentialSource implements PartnerCredentialSource {
  readonly kind = 'secret' as const;

  constructor(
    private readonly secrets: SecretProvider,
    private readonly authority: PartnerAuthority,
    private readonly secretName?: string,
  ) {}

  async current(): Promise<PartnerCredentialMaterial> {
    return this.material(await this.secrets.getSecret());
  }

  async refresh(): Promise<PartnerCredentialMaterial> {
    return this.material(await this.secrets.refresh());
  }

  private material(secret: Awaited<ReturnType<SecretProvider['getSecret']>>): PartnerCredentialMaterial {
    const { authority } = this;
    return {
      kind: 'secret',
      ...(this.secretName !== undefined && secret.version !== 'static' ? { name: this.secretName } : {}),
      version: secret.version,
      ...(secret.expiresOn !== undefined ? { expiresOn: secret.expiresOn } : {}),
      credentialFor: (tenantId) =>
        new ClientSecretCredential(tenantId, authority.clientId, secret.value, sdkOptions(authority)),
    };
  }
}

/**
 * `certificate`: the Key Vault certificate read through its secret (the `SecretProvider` reads the secret named
 * after the certificate, versionless). PEM is used as stored; PKCS#12 (base64, no password, as Key Vault exports
 * it) is converted to PEM: private key, then the leaf certificate, then the rest of the chain.
 */
export class CertificateCredentialSource implements PartnerCredentialSource {
  readonly kind = 'certificate' as const;
  private parsed?: { version: string; pem: string };

  constructor(
    private readonly secrets: SecretProvider,
    private readonly authority: PartnerAuthority,
    private readonly certificateName: string,
  ) {}

  async current(): Promise<PartnerCredentialMaterial> {
    return this.material(await this.secrets.getSecret());
  }

  async refresh(): Promise<PartnerCredentialMaterial> {
    return this.material(await this.secrets.refresh());
  }

  private material(secret: Awaited<ReturnType<SecretProvider['getSecret']>>): PartnerCredentialMaterial {
    if (this.parsed?.version !== secret.version) {
      const pem = certificatePem(secret.value, secret.contentType, this.certificateName);
      registerSecret(pem);
      this.parsed = { version: secret.version, pem };
    }
    const { pem } = this.parsed;
    const { authority } = this;
    return {
      kind: 'certificate',
      name: this.certificateName,
      version: secret.version,
      ...(secret.expiresOn !== undefined ? { expiresOn: secret.expiresOn } : {}),
      credentialFor: (tenantId) =>
        new ClientCertificateCredential(
          tenantId,
          authority.clientId,
          { certificate: pem },
          { ...sdkOptions(authority), sendCertificateChain: true },
        ),
    };
  }
}

function certificateError(name: string, why: string): CollectorError {
  return new CollectorError(`Key Vault certificate '${name}' cannot be used: ${why}.`, {
    code: ErrorCode.CERTIFICATE_INVALID,
    kind: 'credential_error',
  });
}

/**
 * The PEM the certificate credential signs with: private key first, then the leaf certificate (its thumbprint is
 * the assertion's `x5t`), then the chain. `contentType` is Key Vault's (`application/x-pem-file` or
 * `application/x-pkcs12`); without one, PEM is recognised by its armour and anything else is tried as PKCS#12.
 * Throws CollectorError `CERTIFICATE_INVALID` (credential_error) naming the certificate, never its content.
 */
export function certificatePem(value: string, contentType: string | undefined, name: string): string {
  const pem = contentType === 'application/x-pem-file' || /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value);
  return pem ? checkedPem(value, name) : pkcs12ToPem(value, name);
}

function checkedPem(value: string, name: string): string {
  const key = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/.exec(value)?.[0];
  const certs = value.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (key === undefined) throw certificateError(name, 'the PEM holds no private key');
  if (certs.length === 0) throw certificateError(name, 'the PEM holds no certificate');
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw certificateError(name, 'the private key is not readable (encrypted or malformed)');
  }
  const leafIndex = certs.findIndex((c) => {
    try {
      return new X509Certificate(c).checkPrivateKey(privateKey);
    } catch {
      return false;
    }
  });
  if (leafIndex < 0) throw certificateError(name, 'no certificate in the PEM matches its private key');
  const ordered = [certs[leafIndex] as string, ...certs.filter((_, i) => i !== leafIndex)];
  return `${key}\n${ordered.join('\n')}\n`;
}

function pkcs12ToPem(base64: string, name: string): string {
  let p12: forge.pkcs12.Pkcs12Pfx | undefined;
  try {
    const asn1 = forge.asn1.fromDer(forge.util.decode64(base64.replace(/\s+/g, '')));
    // Key Vault exports with an empty password (MAC present); a PKCS#12 made without any password has no MAC.
    try {
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1, '');
    } catch {
      p12 = forge.pkcs12.pkcs12FromAsn1(asn1);
    }
  } catch {
    throw certificateError(name, 'it is neither PEM nor a password-less PKCS#12');
  }
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag as string })[
      forge.pki.oids.pkcs8ShroudedKeyBag as string
    ] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids.keyBag as string })[forge.pki.oids.keyBag as string] ?? []),
  ];
  const key = keyBags.find((b) => b.key !== undefined)?.key;
  if (key === undefined) throw certificateError(name, 'the PKCS#12 holds no private key');
  const certs = (p12.getBags({ bagType: forge.pki.oids.certBag as string })[forge.pki.oids.certBag as string] ?? [])
    .map((b) => b.cert)
    .filter((c): c is forge.pki.Certificate => c !== undefined && c !== null);
  if (certs.length === 0) throw certificateError(name, 'the PKCS#12 holds no certificate');
  const pem = `${forge.pki.privateKeyToPem(key)}${certs.map((c) => forge.pki.certificateToPem(c)).join('')}`;
  return checkedPem(pem, name);
}

/** Options of the `federated` credential. */
export interface FederatedCredentialOptions extends PartnerAuthority {
  /** Client ID of the user-assigned managed identity the app trusts (`PARTNER_FEDERATED_CLIENT_ID`). */
  readonly managedIdentityClientId: string;
  /** Token-exchange audience of the cloud (`api://AzureADTokenExchange`, …), without `/.default`. */
  readonly audience: string;
  /** The managed identity credential (tests may pass their own; default: `ManagedIdentityCredential`). */
  readonly managedIdentity?: TokenCredential;
}

/**
 * `federated`: the assertion is the managed identity's token for the token-exchange audience. The version is
 * constant (`federated`): there is nothing to rotate, so `refresh()` returns the same material; the token provider's
 * one re-read after a refusal asks the SDK again, which calls back here for the managed identity's (cached or new)
 * token, and a second refusal is reported. A managed-identity failure is classified by `managedIdentityFailure`.
 */
export class FederatedCredentialSource implements PartnerCredentialSource {
  readonly kind = 'federated' as const;
  private readonly managedIdentity: TokenCredential;
  private readonly material: PartnerCredentialMaterial;

  constructor(private readonly options: FederatedCredentialOptions) {
    this.managedIdentity = options.managedIdentity ?? new ManagedIdentityCredential(options.managedIdentityClientId);
    const getAssertion = () => this.assertion();
    this.material = {
      kind: 'federated',
      version: 'federated',
      credentialFor: (tenantId) =>
        new ClientAssertionCredential(tenantId, options.clientId, getAssertion, sdkOptions(options)),
    };
  }

  async current(): Promise<PartnerCredentialMaterial> {
    return this.material;
  }

  async refresh(): Promise<PartnerCredentialMaterial> {
    return this.material;
  }

  private async assertion(): Promise<string> {
    let token: string | undefined;
    let failure: unknown;
    try {
      token = (await this.managedIdentity.getToken(`${this.options.audience}/.default`))?.token;
    } catch (error) {
      failure = error;
    }
    if (token === undefined || token === '') {
      throw managedIdentityFailure(this.options.managedIdentityClientId, this.options.audience, failure);
    }
    // A JWT: the redactor masks every JWT shape already, so the hourly token is not added to its list.
    return token;
  }
}

const MI_OUTAGE_TEXT = /network unreachable|timed? ?out|timeout|socket hang up|endpoint, but it is not available/i;

/** True when one link of an error chain says the managed-identity endpoint was down, slow or overloaded. */
function isManagedIdentityOutage(link: Record<string, unknown>): boolean | undefined {
  const status = typeof link.statusCode === 'number' ? link.statusCode : link.status;
  const message = typeof link.message === 'string' ? link.message : '';
  if (typeof status === 'number') {
    if (status >= 500 || status === 408 || status === 429) return true;
    // Docker Desktop's IMDS stand-in answers an unreachable network with 403 "... unreachable ...".
    return status === 403 && /unreachable/i.test(message) ? true : false;
  }
  if (link.errorCode === 'network_error') return true;
  if (typeof link.code === 'string' && isTransientNetworkCode(link.code)) return true;
  if (link.name === 'AbortError' || link.name === 'TimeoutError') return true;
  return MI_OUTAGE_TEXT.test(message) ? true : undefined;
}

/**
 * The CollectorError for a managed identity that gave no token (`error`: what `getToken` threw, undefined when it
 * answered without one). The error and its `cause` chain (as `@azure/identity` wraps MSAL and network errors) are
 * read: an HTTP status decides first (5xx, 408, 429 → outage; other 4xx, e.g. IMDS 400 "Identity not found" →
 * refusal), then network codes (`network_error`, `ECONNREFUSED`, …), aborts and timeouts. An outage is
 * `MANAGED_IDENTITY_UNREACHABLE` (transient: the tenant is retried, the run is not stopped); anything else is
 * `MANAGED_IDENTITY_UNAVAILABLE` (credential_error). The message names the identity and audience, never a token.
 */
export function managedIdentityFailure(clientId: string, audience: string, error: unknown): CollectorError {
  let outage = false;
  let name: unknown;
  let link: unknown = error;
  for (let depth = 0; depth < 5 && typeof link === 'object' && link !== null; depth += 1) {
    const current = link as Record<string, unknown>;
    name ??= current.name;
    const verdict = isManagedIdentityOutage(current);
    if (verdict !== undefined) {
      outage = verdict;
      if (typeof (current.statusCode ?? current.status) === 'number') break;
    }
    link = current.cause;
  }
  const reason = typeof name === 'string' ? name : 'error';
  return outage
    ? new CollectorError(
        `The managed identity endpoint did not answer for ${clientId} (${audience}, ${reason}); retried later.`,
        { code: ErrorCode.MANAGED_IDENTITY_UNREACHABLE, kind: 'transient' },
      )
    : new CollectorError(`The managed identity ${clientId} gave no token for ${audience} (${reason}).`, {
        code: ErrorCode.MANAGED_IDENTITY_UNAVAILABLE,
        kind: 'credential_error',
      });
}
