/**
 * What a tenant's state means and what fixes it — the one table the `status` command and the status page
 * (design §11) both read: a stored error code in words, and per status the fix with the exact command to run.
 * Pure: the caller passes the clock's time and `INCIDENT_SOURCE`.
 */
import { errorCodeInfo } from '../domain/errorCodes.js';
import { isPartnerCredentialCode } from '../domain/partnerCredential.js';
import {
  LEGACY_RETIREMENT,
  legacyRetired,
  type SourceSetting,
  type TenantRecord,
  type TenantStatus,
} from '../ports.js';
import { collectsFromLegacy } from './health.js';

/** The CLI's name, as operators type it. */
const CLI = 'incident-collector';

/** Entra ID's AADSTS numbers the collector meets, in words (Microsoft Learn, "Entra authentication error codes"). */
const AADSTS_WORDS: Readonly<Record<number, string>> = {
  700016: "The partner app is not found in the customer's directory: admin consent was never given or was removed.",
  7000229: "The partner app has no service principal in the customer's directory (consent removed).",
  65001: 'The customer has not granted admin consent to the partner app.',
  500011: "The incidents API's service principal is missing in the customer's directory.",
  650052: 'The customer tenant lacks a service the app needs access to (e.g. no Defender subscription).',
  90002: 'The tenant was not found: it was deleted, the ID is wrong, or it is in another cloud (CLOUD).',
  7000215: 'Entra ID refused the partner client secret (invalid secret).',
  7000222: 'The partner client secret has expired.',
  700027: "Entra ID refused the client assertion's signature: the certificate is not registered on the app.",
  700024: 'The client assertion is outside its valid time (expired, or the clock is skewed).',
  700023: 'The client assertion was made for another audience.',
  700021: 'The client assertion names another application.',
  70021: 'No federated identity credential on the app matches the managed identity.',
  700211: "No federated identity credential on the app matches the assertion's issuer.",
  700212: "No federated identity credential on the app matches the assertion's audience.",
  700213: "No federated identity credential on the app matches the assertion's subject.",
  50033: 'Entra ID had a temporary problem (retried).',
  90006: 'Entra ID had a temporary problem (retried).',
  90024: 'Entra ID had a temporary problem (retried).',
  90033: 'Entra ID had a temporary problem (retried).',
};

/** What a stored `HTTP_<status>` from an incidents API means. */
function httpWords(status: number): string {
  if (status === 401) return 'The incidents API refused the token (HTTP 401).';
  if (status === 403) return 'The incidents API refused access (HTTP 403): the read permission is missing.';
  if (status === 404) return 'The incidents API answered HTTP 404 (no Defender for this tenant?).';
  if (status === 429) return 'The incidents API throttled the collector (HTTP 429); retried.';
  if (status >= 500) return `The incidents API had a service error (HTTP ${status}); retried.`;
  return `The incidents API answered HTTP ${status}.`;
}

/**
 * A stored error code in words (catalogue codes by their meaning, AADSTS numbers and HTTP statuses by the tables
 * above); for a code none of them knows, the stored message (already redacted when it was stored) or the code.
 */
export function errorInWords(code: string, storedMessage?: string): string {
  const info = errorCodeInfo(code);
  if (info) return info.meaning;
  const aadsts = /^AADSTS(\d+)$/.exec(code);
  const words = aadsts ? AADSTS_WORDS[Number(aadsts[1])] : undefined;
  if (words) return words;
  const http = /^HTTP_(\d{3})$/.exec(code);
  if (http) return httpWords(Number(http[1]));
  const message = storedMessage?.trim();
  return message ? message : `Error ${code}.`;
}

/** How urgent a tenant's advice is: the order of "needs action" lists (lower first). */
const URGENCY: Readonly<Record<TenantStatus, number>> = {
  credential_error: 0,
  consent_revoked: 1,
  missing_permissions: 2,
  failing: 3,
  pending_consent: 4,
  active: 5,
  disabled: 6,
};

/** One tenant as the operator's view shows it. */
export interface TenantAdvice {
  readonly tenantId: string;
  readonly displayName: string;
  readonly status: TenantStatus;
  /** When the status was set (`statusChangedAt`, else `consentedAt`), ISO 8601 UTC; null when unknown. */
  readonly since: string | null;
  /** True when an operator (or the customer's admin, on the operator's request) has to do something. */
  readonly needsAction: boolean;
  readonly lastErrorCode: string | null;
  /** The state and the last error, in words. */
  readonly problem: string;
  /** What fixes it, in one or two sentences; '' when nothing is to be done. */
  readonly fix: string;
  /** The exact commands to run, in order (may be empty). */
  readonly commands: readonly string[];
}

/** What the advice needs besides the tenant. */
export interface AdviceContext {
  /** The clock's time (consent link expiry, the legacy deadline). */
  readonly now: Date;
  /** `INCIDENT_SOURCE`. */
  readonly defaultSource: SourceSetting;
}

function lastErrorWords(t: TenantRecord): string {
  return t.lastErrorCode ? ` Last error: ${errorInWords(t.lastErrorCode, t.lastError)} (${t.lastErrorCode})` : '';
}

/** The advice for one tenant (see {@link TenantAdvice}). */
export function adviseTenant(t: TenantRecord, ctx: AdviceContext): TenantAdvice {
  const base = {
    tenantId: t.tenantId,
    displayName: t.displayName,
    status: t.status,
    since: t.statusChangedAt ?? t.consentedAt ?? null,
    lastErrorCode: t.lastErrorCode ?? null,
  };
  const id = t.tenantId;
  const consentLink = `${CLI} consent-link --tenant ${id}`;
  const action = (problem: string, fix: string, commands: string[]) => ({
    ...base,
    needsAction: true,
    problem,
    fix,
    commands,
  });
  const fine = (problem: string, fix = '', commands: string[] = []) => ({
    ...base,
    needsAction: false,
    problem,
    fix,
    commands,
  });
  switch (t.status) {
    case 'consent_revoked':
      if (t.lastErrorCode === 'AADSTS90002' || t.lastErrorCode === 'ENDPOINTS_RESOLUTION_ERROR')
        return action(
          `The tenant cannot be found.${lastErrorWords(t)}`,
          'Check the tenant ID and the cloud (CLOUD); if the customer left, remove the tenant.',
          [`${CLI} tenants remove ${id}`],
        );
      return action(
        `Admin consent was revoked or the app was removed from the customer's directory.${lastErrorWords(t)}`,
        "Send the customer's admin a new consent link; the tenant is re-probed every REPROBE_HOURS and returns to active by itself.",
        [consentLink],
      );
    case 'missing_permissions':
      return action(
        `The app's token lacks the incident read permission in this tenant.${lastErrorWords(t)}`,
        "Ask the customer's admin to grant admin consent again (a new consent link), so the app's current permissions (SecurityIncident.Read.All) reach the tenant.",
        [consentLink],
      );
    case 'credential_error': {
      const code = t.lastErrorCode ?? '';
      if (isPartnerCredentialCode(code))
        return action(
          `The partner credential was refused.${lastErrorWords(t)}`,
          'Rotate the partner credential (README, rotation steps), then prove it; the tenant is collected every run and recovers by itself.',
          [`${CLI} credentials check`],
        );
      if (code === 'TOKEN_TENANT_MISMATCH')
        return action(
          `The token was issued for another tenant.${lastErrorWords(t)}`,
          'Check the tenant ID and AZURE_AUTHORITY_HOST / CLOUD, then prove the credential.',
          [`${CLI} credentials check`],
        );
      return action(
        `No token could be obtained for this tenant.${lastErrorWords(t)}`,
        "Check the partner credential and the app's Key Vault access; the tenant is collected every run and recovers by itself.",
        [`${CLI} credentials check`],
      );
    }
    case 'failing':
      return action(
        `${t.consecutiveFailures} runs in a row failed.${lastErrorWords(t)}`,
        "Usually an outage or throttling on the service's side, retried every run. If it lasts, collect it alone to see the whole error.",
        [`${CLI} collect --tenant ${id}`],
      );
    case 'pending_consent': {
      const expires = t.consentLinkExpiresAt === undefined ? NaN : Date.parse(t.consentLinkExpiresAt);
      if (!Number.isNaN(expires) && expires > ctx.now.getTime())
        return fine(
          `Waiting for the customer's admin to consent (the link is valid until ${t.consentLinkExpiresAt}).`,
          'Nothing to do until the admin opens the link.',
        );
      return action(
        Number.isNaN(expires)
          ? `Registered, but the customer's admin has not consented.${lastErrorWords(t)}`
          : `The consent link expired at ${t.consentLinkExpiresAt} before the admin used it.`,
        "Send the customer's admin a new consent link (for every expired link at once: consent-link --expired).",
        [consentLink],
      );
    }
    case 'disabled':
      return fine('Disabled by an operator: not collected.', 'Enable it to collect again.', [
        `${CLI} tenants enable ${id}`,
      ]);
    case 'active': {
      const retired = t.lastErrorCode === 'SOURCE_RETIRED';
      if (retired || collectsFromLegacy(t, ctx.defaultSource)) {
        const when = LEGACY_RETIREMENT.slice(0, 10);
        return action(
          retired || legacyRetired(ctx.now)
            ? `Still set to the legacy incidents API, which stopped on ${when}: not collected.`
            : `Collects from the legacy incidents API, which stops on ${when}.`,
          'Check that Graph is ready for this tenant (send the consent link it prints when not), then move the tenant to Graph; its checkpoint is kept.',
          [`${CLI} sources check --tenant ${id}`, `${CLI} tenants set-source ${id} graph`],
        );
      }
      if (t.consecutiveFailures > 0)
        return fine(
          `Collecting; the last run failed (${t.consecutiveFailures} in a row).${lastErrorWords(t)}`,
          'Retried every run; it turns failing after 3 failed runs in a row.',
        );
      return fine('Collecting normally.');
    }
  }
}

/** Advice for every tenant, those needing action first (most urgent status, then longest in it), then the rest. */
export function adviseTenants(tenants: readonly TenantRecord[], ctx: AdviceContext): TenantAdvice[] {
  return tenants
    .map((t) => adviseTenant(t, ctx))
    .sort(
      (a, b) =>
        Number(b.needsAction) - Number(a.needsAction) ||
        URGENCY[a.status] - URGENCY[b.status] ||
        (a.since ?? '').localeCompare(b.since ?? '') ||
        a.tenantId.localeCompare(b.tenantId),
    );
}
