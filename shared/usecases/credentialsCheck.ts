/**
 * `incident-collector credentials check` (issue 13): what the partner credential is (kind, Key Vault version,
 * expiry, days left) and proof that Entra accepts it — one token request against the partner's home tenant
 * (`PARTNER_TENANT_ID`), never a customer tenant.
 */
import { CollectorError } from '../domain/errors.js';
import {
  credentialExpiryProblem,
  daysUntilExpiry,
  type CredentialProblem,
  type PartnerCredentialRecord,
} from '../domain/partnerCredential.js';
import { redact } from '../log.js';
import type { Clock } from '../ports.js';

/** The token provider's two credential operations this use case needs. */
export interface CredentialProver {
  describeCredential(): Promise<PartnerCredentialRecord>;
  proveCredential(tenantId: string): Promise<PartnerCredentialRecord>;
}

export interface CredentialsCheckDeps {
  readonly tokens: CredentialProver;
  readonly clock: Clock;
  /** `PARTNER_TENANT_ID`; without it the token request is skipped (`proof.status` = `skipped`). */
  readonly partnerTenantId?: string;
}

/** The `credentials check --json` object. Never holds a secret, key or token. */
export interface CredentialsCheckResult {
  /** `secret`, `certificate`, `federated`; null when the credential could not be read. */
  readonly kind: PartnerCredentialRecord['kind'] | null;
  readonly name: string | null;
  readonly version: string | null;
  /** ISO 8601 UTC; null when no expiry is known (federated: none exists). */
  readonly expiresOn: string | null;
  /** Whole days until `expiresOn` (negative once expired); null without an expiry. */
  readonly daysLeft: number | null;
  /** Expired, expiring within 30 days, or stored without an expiry (design §11 problem codes). */
  readonly problems: readonly { code: string; message: string }[];
  readonly proof: {
    readonly status: 'ok' | 'failed' | 'skipped';
    readonly tenantId: string | null;
    readonly error?: { readonly code: string; readonly message: string };
  };
}

/** The error's code and redacted message (as `toFailure` does): upstream text may quote a token or secret. */
function failure(error: unknown): { code: string; message: string } {
  if (error instanceof CollectorError) return { code: error.code, message: redact(error.message) };
  return { code: 'UNKNOWN', message: error instanceof Error ? error.name : 'unknown error' };
}

/** Read, describe and (with a home tenant) prove the partner credential. Never throws for credential failures. */
export async function checkCredentials(deps: CredentialsCheckDeps): Promise<CredentialsCheckResult> {
  let record: PartnerCredentialRecord;
  try {
    record = await deps.tokens.describeCredential();
  } catch (error) {
    return {
      kind: null,
      name: null,
      version: null,
      expiresOn: null,
      daysLeft: null,
      problems: [],
      proof: { status: 'failed', tenantId: deps.partnerTenantId ?? null, error: failure(error) },
    };
  }
  const now = deps.clock.now();
  const problem: CredentialProblem | undefined = credentialExpiryProblem(record, now);
  let proof: CredentialsCheckResult['proof'] = { status: 'skipped', tenantId: null };
  if (deps.partnerTenantId !== undefined) {
    try {
      record = await deps.tokens.proveCredential(deps.partnerTenantId);
      proof = { status: 'ok', tenantId: deps.partnerTenantId };
    } catch (error) {
      proof = { status: 'failed', tenantId: deps.partnerTenantId, error: failure(error) };
    }
  }
  return {
    kind: record.kind,
    name: record.name ?? null,
    version: record.version,
    expiresOn: record.expiresOn ?? null,
    daysLeft: daysUntilExpiry(record, now) ?? null,
    problems: problem ? [{ code: problem.code, message: problem.message }] : [],
    proof,
  };
}
