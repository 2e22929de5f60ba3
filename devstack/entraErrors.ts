/**
 * Entra ID error answers in the real shape ({error, error_description "AADSTS…: … Trace ID … Correlation ID …
 * Timestamp …", error_codes, timestamp, trace_id, correlation_id, error_uri}). Messages follow the real ones
 * closely enough for code that parses `error` first and the AADSTS number second; they never echo a secret.
 */
import { randomUUID } from 'node:crypto';
import { json, type SimResponse } from './simServer.js';

export function entraError(status: number, error: string, code: number, message: string): SimResponse {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  const timestamp = new Date().toISOString().replace('T', ' ').replace('Z', 'Z');
  return json(status, {
    error,
    error_description: `AADSTS${code}: ${message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
    error_codes: [code],
    timestamp,
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  });
}

export const ENTRA_ERRORS = {
  tenantNotFound: (tenant: string) =>
    entraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    ),
  /** Discovery answers `invalid_tenant` (what @azure/identity turns into endpoints_resolution_error). */
  discoveryTenantNotFound: (tenant: string) => {
    const answer = ENTRA_ERRORS.tenantNotFound(tenant);
    return { ...answer, body: { ...(answer.body as object), error: 'invalid_tenant' } };
  },
  notConsented: (clientId: string) =>
    entraError(
      400,
      'invalid_grant',
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named 'Incident Collector'. Send an interactive authorization request for this user and resource.`,
    ),
  appNotFound: (clientId: string, tenant: string) =>
    entraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    ),
  servicePrincipalMissing: (clientId: string, tenant: string) =>
    entraError(
      401,
      'invalid_client',
      7000229,
      `The client application ${clientId} is missing service principal in the tenant ${tenant}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
    ),
  invalidSecret: (clientId: string) =>
    entraError(
      401,
      'invalid_client',
      7000215,
      `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${clientId}'.`,
    ),
  expiredSecret: (clientId: string) =>
    entraError(
      401,
      'invalid_client',
      7000222,
      `The provided client secret keys for app '${clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds`,
    ),
  unsupportedGrant: () =>
    entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.'),
  invalidScope: (scope: string) =>
    entraError(
      400,
      'invalid_scope',
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    ),
  missingSecret: () =>
    entraError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ),
  /** The assertion's key/certificate is not registered on the app, or its signature does not verify. */
  assertionBadSignature: (clientId: string, thumbprint: string) =>
    entraError(
      401,
      'invalid_client',
      700027,
      `Client assertion failed signature validation. The key was not found: the certificate with thumbprint '${thumbprint}' used to sign the client assertion is not registered on application '${clientId}'.`,
    ),
  assertionExpired: () =>
    entraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.'),
  assertionAudience: (expected: string) =>
    entraError(
      401,
      'invalid_client',
      700023,
      `Client assertion audience claim does not match Realm issuer. Expected '${expected}'.`,
    ),
  assertionClientMismatch: () =>
    entraError(
      401,
      'invalid_client',
      700021,
      "Client assertion application identifier doesn't match 'client_id' parameter.",
    ),
  assertionReplayed: () =>
    entraError(
      401,
      'invalid_client',
      700024,
      'Client assertion is not within its valid time range: the assertion identifier (jti) was already used.',
    ),
  assertionMalformed: (why: string) =>
    entraError(400, 'invalid_request', 50027, `JWT token is invalid or malformed: ${why}.`),
  noFederatedMatch: (issuer: string, subject: string, audience: string) =>
    entraError(
      400,
      'invalid_client',
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${issuer}'. Assertion Subject: '${subject}'. Assertion Audience: '${audience}'.`,
    ),
  noFederatedAudience: (audience: string) =>
    entraError(
      400,
      'invalid_client',
      700212,
      `No matching federated identity record found for presented assertion audience '${audience}'.`,
    ),
};
