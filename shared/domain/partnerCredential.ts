/**
 * What the collector knows about its partner credential (design §11): its kind, the Key Vault version in use and
 * when it expires. Recorded on each `Runs` row when the run starts, read by health, logs and `credentials check`.
 * Pure: no I/O, no clock of its own.
 */
import { ErrorCode } from './errorCodes.js';

/**
 * Entra's AADSTS numbers that refuse the partner credential itself (design §7): bad or expired secret (7000215,
 * 7000222); for certificate and federated credentials the client assertion — invalid signature / key not
 * registered (700027), assertion outside its valid time (700024), audience or app id mismatch (700023, 700021), no
 * matching federated identity record (70021; by issuer 700211, audience 700212, subject 700213). Sources:
 * Microsoft Learn "Microsoft Entra authentication and authorization error codes" and the Azure SDK
 * troubleshooting pages (ClientCertificateCredential / ClientAssertionCredential).
 */
export const PARTNER_CREDENTIAL_AADSTS: ReadonlySet<number> = new Set([
  7000215, 7000222, 700027, 700024, 700023, 700021, 70021, 700211, 700212, 700213,
]);

/**
 * Codes that mean the partner credential is broken for every tenant, so the run re-reads it once and then stops
 * calling Entra for the remaining tenants (design §7): the AADSTS numbers above, an unusable Key Vault certificate
 * and a managed identity that gives no assertion.
 */
export function isPartnerCredentialCode(code: string): boolean {
  const m = /^AADSTS(\d+)$/.exec(code);
  if (m) return PARTNER_CREDENTIAL_AADSTS.has(Number(m[1]));
  return code === ErrorCode.CERTIFICATE_INVALID || code === ErrorCode.MANAGED_IDENTITY_UNAVAILABLE;
}

/** Days before a known expiry from which health is `degraded` (design §11). */
export const CREDENTIAL_EXPIRY_WARNING_DAYS = 30;

const DAY_MS = 86_400_000;

/** The partner credential as last read. Never holds the secret, key or assertion itself. */
export interface PartnerCredentialRecord {
  /** `secret`, `certificate` or `federated` (`PARTNER_CREDENTIAL`). */
  readonly kind: 'secret' | 'certificate' | 'federated';
  /** Key Vault secret/certificate name; undefined for `federated` and for the local `PARTNER_CLIENT_SECRET`. */
  readonly name?: string;
  /** Key Vault version in use (`static` for `PARTNER_CLIENT_SECRET`, `federated` for a managed identity). */
  readonly version: string;
  /** ISO 8601 UTC expiry from Key Vault (`expiresOn`); undefined when none is known. */
  readonly expiresOn?: string;
  /** ISO 8601 UTC instant the record was read. */
  readonly checkedAt: string;
}

/** One health/operator problem about the credential (design §11 `problems[]`). */
export interface CredentialProblem {
  /** `CREDENTIAL_EXPIRED`, `CREDENTIAL_EXPIRING` or `CREDENTIAL_EXPIRY_UNKNOWN`. */
  readonly code: 'CREDENTIAL_EXPIRED' | 'CREDENTIAL_EXPIRING' | 'CREDENTIAL_EXPIRY_UNKNOWN';
  readonly message: string;
  /** True when this problem alone makes health `degraded` (expired, or within 30 days of expiry). */
  readonly degraded: boolean;
}

/**
 * Whole days from `now` until `expiresOn` (rounded down; negative once expired), or undefined when no expiry is
 * known or the stored value is not a timestamp.
 */
export function daysUntilExpiry(record: PartnerCredentialRecord, now: Date): number | undefined {
  if (record.expiresOn === undefined) return undefined;
  const at = Date.parse(record.expiresOn);
  if (Number.isNaN(at)) return undefined;
  return Math.floor((at - now.getTime()) / DAY_MS);
}

/**
 * The problem the recorded credential poses at `now`, for the health use case (design §11): expired or expiring
 * within {@link CREDENTIAL_EXPIRY_WARNING_DAYS} days → degraded; a Key Vault secret or certificate stored without
 * an expiry → reported, but not degraded by itself; a federated credential (no secret exists) → no problem.
 */
export function credentialExpiryProblem(record: PartnerCredentialRecord, now: Date): CredentialProblem | undefined {
  const what = record.name !== undefined ? `${record.kind} '${record.name}'` : `the partner ${record.kind}`;
  if (record.expiresOn === undefined) {
    if (record.kind === 'federated' || record.version === 'static') return undefined;
    return {
      code: 'CREDENTIAL_EXPIRY_UNKNOWN',
      message: `The ${what} in Key Vault has no expiry date: set one that matches the credential registered in Entra ID, so its end is seen coming.`,
      degraded: false,
    };
  }
  const at = Date.parse(record.expiresOn);
  if (Number.isNaN(at)) return undefined;
  if (at <= now.getTime()) {
    return {
      code: 'CREDENTIAL_EXPIRED',
      message: `The ${what} expired at ${record.expiresOn}: rotate it (README, rotation steps).`,
      degraded: true,
    };
  }
  const days = Math.floor((at - now.getTime()) / DAY_MS);
  if (at - now.getTime() <= CREDENTIAL_EXPIRY_WARNING_DAYS * DAY_MS) {
    return {
      code: 'CREDENTIAL_EXPIRING',
      message: `The ${what} expires at ${record.expiresOn} (${days} days left): rotate it before then.`,
      degraded: true,
    };
  }
  return undefined;
}
