/**
 * The error catalogue: every fixed error code the collector reports (CollectorError.code, run results, the
 * tenant's `lastErrorCode`, the admin API's `{ error: { code } }`, the consent page), with its kind and meaning.
 * Code strings are contracts (they reach tables, logs and HTTP answers): never rename one, only add.
 *
 * Code families built from a number are not listed one by one: `HTTP_<status>` (incidents API, classified by
 * `classifyHttpStatus`), `AADSTS<n>` and OAuth error names (token endpoint, `shared/adapters/tokenFailure.ts`),
 * `KEYVAULT_<status>`, `TABLE_<service error code or status>` (Table Storage), the Node/got network codes
 * (`TRANSIENT_NETWORK_CODES`), and the admin API's `INVALID_<FIELD>` for a bad request field (`InputError`).
 */
import type { FailureKind } from './errors.js';

/**
 * What a code means for its caller: a collection failure kind (retry or stop, design §7), or for request-level
 * codes the kind of answer (`bad_request` 400, `not_found` 404, `conflict` 409, `server` 500/503).
 */
export type ErrorKind = FailureKind | 'bad_request' | 'not_found' | 'conflict' | 'server';

/** One catalogue entry. */
export interface ErrorCodeInfo {
  readonly kind: ErrorKind;
  /** What happened and what to do, for operators reading a tenant row or a log line. */
  readonly meaning: string;
}

/** Every fixed error code → its kind and meaning. */
export const ERROR_CATALOGUE = {
  ABORTED: { kind: 'transient', meaning: 'The operation was cancelled (shutdown or a sibling failure); retried.' },
  AUTHORITY_UNREACHABLE: {
    kind: 'transient',
    meaning: 'The Entra ID authority could not be reached for a token; retried.',
  },
  ENDPOINTS_RESOLUTION_ERROR: {
    kind: 'transient',
    meaning: "The tenant's token endpoints could not be discovered (authority outage); retried.",
  },
  TOKEN_MALFORMED: {
    kind: 'credential_error',
    meaning: 'The access token could not be decoded: the credential or authority is misconfigured.',
  },
  TOKEN_TENANT_MISMATCH: {
    kind: 'credential_error',
    meaning: 'The token was issued for another tenant than requested: check the authority and tenant ID.',
  },
  MISSING_ROLE: {
    kind: 'missing_permissions',
    meaning: 'The token lacks the incident read application role: grant it and re-consent.',
  },
  SECRET_EMPTY: { kind: 'credential_error', meaning: 'The partner client secret (setting or Key Vault) is empty.' },
  SECRET_NOT_FOUND: { kind: 'credential_error', meaning: 'The partner client secret is not in Key Vault.' },
  CERTIFICATE_INVALID: {
    kind: 'credential_error',
    meaning:
      'The Key Vault certificate (PARTNER_CERTIFICATE_NAME) cannot be used: no private key, no matching certificate, or neither PEM nor password-less PKCS#12.',
  },
  MANAGED_IDENTITY_UNAVAILABLE: {
    kind: 'credential_error',
    meaning:
      'The managed identity (PARTNER_FEDERATED_CLIENT_ID) gave no token to present as federated client assertion.',
  },
  MANAGED_IDENTITY_UNREACHABLE: {
    kind: 'transient',
    meaning:
      'The managed identity endpoint (PARTNER_FEDERATED_CLIENT_ID) was unreachable, timed out or answered 5xx/429: retried, the credential is not blamed.',
  },
  KEYVAULT_AUTH: {
    kind: 'credential_error',
    meaning: "The app's identity could not authenticate to Key Vault to read the partner secret.",
  },
  MALFORMED_RESPONSE: {
    kind: 'transient',
    meaning: 'The incidents API answered a malformed or truncated body; retried.',
  },
  REQUEST_FAILED: { kind: 'permanent', meaning: 'An incidents API request failed without a known network code.' },
  GRAPH_NEXTLINK_LOOP: {
    kind: 'permanent',
    meaning: 'Graph returned an @odata.nextLink that was already followed (paging loop); the tenant fails.',
  },
  GRAPH_EMPTY_PAGES: {
    kind: 'transient',
    meaning: 'Graph returned too many empty pages in a row that still had a nextLink; retried.',
  },
  GRAPH_INSTANT_OVERFLOW: {
    kind: 'permanent',
    meaning: "More Graph incidents share one lastUpdateDateTime than Graph's $skip limit can page past.",
  },
  M365D_INSTANT_OVERFLOW: {
    kind: 'permanent',
    meaning: 'More legacy-API incidents share one millisecond than its paging can reach.',
  },
  QUARANTINE_UNAVAILABLE: {
    kind: 'permanent',
    meaning:
      'A page held records that could not be accepted and no quarantine store was configured to keep them; nothing is dropped, the tenant fails.',
  },
  TABLE_INVALID_KEY: { kind: 'permanent', meaning: 'A value cannot be used as a Table Storage key.' },
  TABLE_ROW_INVALID: { kind: 'permanent', meaning: 'A stored row does not have the expected shape.' },
  TABLE_PAYLOAD_TOO_LARGE: {
    kind: 'permanent',
    meaning: 'An incident payload exceeds what one Incidents row can store, even compressed and chunked.',
  },
  TABLE_PAYLOAD_CORRUPT: { kind: 'permanent', meaning: 'A stored incident payload cannot be decoded.' },
  TABLE_RUN_NOT_FOUND: {
    kind: 'permanent',
    meaning: 'The run to record into does not exist (deleted or never created).',
  },
  TABLE_RUN_CORRUPT: { kind: 'permanent', meaning: 'A Runs row does not have the expected shape.' },
  TABLE_RUN_CONTENTION: {
    kind: 'transient',
    meaning: "Too many workers updated the same run's counters at once; retried.",
  },
  TABLE_CHECKPOINT_CONTENTION: {
    kind: 'transient',
    meaning: "Another worker kept changing the tenant's checkpoint row; retried.",
  },
  RUN_SLOT_INVALID: { kind: 'permanent', meaning: 'A run slot is not an integer in the range a run can record.' },
  LEASE_HELD: {
    kind: 'transient',
    meaning: 'Another worker holds the tenant lease: this collection is skipped, not failed.',
  },
  LEASE_LOST: {
    kind: 'transient',
    meaning: 'The tenant lease passed to another worker mid-collection: this one stops, not a failure.',
  },
  DEAD_LETTER: {
    kind: 'transient',
    meaning: 'The collect message failed on every delivery and went to the poison queue; the next run retries.',
  },
  SOURCE_RETIRED: {
    kind: 'permanent',
    meaning:
      "The tenant's source is the legacy incidents API, which stopped on 2027-02-01: move it with 'incident-collector tenants set-source <id> graph' (status unchanged).",
  },
  SOURCE_UNAVAILABLE: {
    kind: 'permanent',
    meaning: "The tenant's source is not built in this process (a host given a single source): a wiring bug.",
  },
  TENANT_NOT_FOUND: { kind: 'not_found', meaning: 'No tenant is registered with this ID.' },
  SUBSCRIPTION_NOT_FOUND: { kind: 'not_found', meaning: 'No event subscription exists with this ID (sub-<uuid>).' },
  LOG_ANALYTICS_NOT_CONFIGURED: {
    kind: 'permanent',
    meaning:
      'The delivery engine has no Logs Ingestion sender: the events of log-analytics subscriptions stay pending, undelivered.',
  },
  SUBSCRIPTION_SECRET_NOT_FOUND: {
    kind: 'not_found',
    meaning:
      "The webhook subscription's secret is not in the subscription vault (SUBSCRIPTION_VAULT_URL): deleted, or never stored there.",
  },
  INCIDENT_NOT_FOUND: { kind: 'not_found', meaning: 'No incident with this ID is stored for the tenant.' },
  EVENT_NOT_FOUND: {
    kind: 'not_found',
    meaning: 'The event or the incident version it belongs to is not stored (e.g. the tenant was purged).',
  },
  CONFLICT: {
    kind: 'conflict',
    meaning: "The tenant's current state forbids the request (e.g. collect a disabled tenant).",
  },
  NOT_CONFIGURED: { kind: 'server', meaning: 'An app setting the request needs is missing; the operator must set it.' },
  SERVICE_UNAVAILABLE: { kind: 'server', meaning: 'Our own storage failed while answering; try again later.' },
  INTERNAL: { kind: 'permanent', meaning: 'An unexpected failure (a bug); details are in the function logs.' },
} as const satisfies Readonly<Record<string, ErrorCodeInfo>>;

/** A code of the catalogue. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The codes as constants (`ErrorCode.LEASE_LOST === 'LEASE_LOST'`), so no code is spelled twice. */
export const ErrorCode: { readonly [C in ErrorCode]: C } = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_CATALOGUE).map((code) => [code, code])) as { [C in ErrorCode]: C },
);

/** The catalogue entry of `code`, or undefined for a family code (`HTTP_503`, `AADSTS700016`, …). */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return Object.hasOwn(ERROR_CATALOGUE, code) ? ERROR_CATALOGUE[code as ErrorCode] : undefined;
}
