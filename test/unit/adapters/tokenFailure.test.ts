import { describe, expect, it } from '@jest/globals';
import {
  aadstsCodes,
  classifyTokenFailure,
  firstAadstsSentence,
  tokenError,
  tokenFailureFacts,
} from '../../../shared/adapters/tokenFailure.js';

const tenant = '11111111-2222-3333-4444-555555555555';
const trace = 'f4a4c1a2-1111-2222-3333-444455556666';

describe('tokenFailureFacts', () => {
  it('reads the OAuth error prefix and AADSTS number from an identity message (400 without status)', () => {
    const message = `unauthorized_client: AADSTS700016: Application with identifier 'abc' was not found in the directory 'Contoso'. This can happen if the application has not been installed. Trace ID: ${trace} Correlation ID: x Timestamp: 2026-11-24 10:00:00Z`;
    const facts = tokenFailureFacts({ name: 'AuthenticationRequiredError', message });
    expect(facts).toMatchObject({
      oauthError: 'unauthorized_client',
      codes: [700016],
      traceId: trace,
      endpointsUnresolved: false,
    });
    expect(facts.summary).toBe(
      "AADSTS700016: Application with identifier 'abc' was not found in the directory 'Contoso'.",
    );
    const error = tokenError(tenant, facts);
    expect(error).toMatchObject({ code: 'AADSTS700016', kind: 'consent_revoked' });
    expect(error.message).not.toContain('This can happen');
    expect(error.message).toContain(trace);
  });

  it('prefers the structured errorResponse of an AuthenticationError', () => {
    const facts = tokenFailureFacts({
      name: 'AuthenticationError',
      statusCode: 401,
      message: 'ClientSecretCredential authentication failed',
      errorResponse: {
        error: 'invalid_client',
        errorDescription:
          'AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.',
        errorCodes: [7000215],
      },
    });
    expect(tokenError(tenant, facts)).toMatchObject({ code: 'AADSTS7000215', kind: 'credential_error', status: 401 });
  });

  it('lets the OAuth error decide before the AADSTS number', () => {
    const facts = tokenFailureFacts({ message: 'temporarily_unavailable: AADSTS700016: something.' });
    expect(tokenError(tenant, facts).kind).toBe('transient');
  });

  it('notices endpoints_resolution_error (unknown tenant or unreachable authority)', () => {
    expect(
      tokenFailureFacts({
        name: 'CredentialUnavailableError',
        message: 'endpoints_resolution_error: Endpoints cannot be resolved',
      }).endpointsUnresolved,
    ).toBe(true);
  });
});

describe('firstAadstsSentence', () => {
  it('keeps dots inside names and stops at the first sentence end', () => {
    expect(firstAadstsSentence("x AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found. Check to make sure.")).toBe(
      "AADSTS90002: Tenant 'contoso.onmicrosoft.com' not found.",
    );
    expect(firstAadstsSentence('no code here')).toBeUndefined();
  });
});

describe('classifyTokenFailure (design §7)', () => {
  it.each([
    ['unauthorized_client', 700016, 'consent_revoked'],
    ['invalid_client', 7000229, 'consent_revoked'],
    ['invalid_grant', 65001, 'consent_revoked'],
    ['invalid_request', 500011, 'consent_revoked'],
    ['invalid_request', 90002, 'consent_revoked'],
    ['invalid_client', 7000215, 'credential_error'],
    ['invalid_client', 7000222, 'credential_error'],
    ['invalid_request', 90033, 'transient'],
    ['invalid_grant', 50033, 'transient'],
  ] as const)('%s AADSTS%d → %s', (error, code, kind) => {
    expect(classifyTokenFailure(error, [code])).toEqual({ code: `AADSTS${code}`, kind });
  });

  it('lets the OAuth error decide before the number', () => {
    expect(classifyTokenFailure('temporarily_unavailable', [700016]).kind).toBe('transient');
  });

  it('falls back to the OAuth error or the status as the code', () => {
    expect(classifyTokenFailure('invalid_client', [])).toEqual({ code: 'invalid_client', kind: 'credential_error' });
    expect(classifyTokenFailure(undefined, [], 503)).toEqual({ code: 'HTTP_503', kind: 'transient' });
  });

  it('extracts every AADSTS number', () => {
    expect(aadstsCodes('AADSTS700016: Application not found. AADSTS50033 retry')).toEqual([700016, 50033]);
  });
});
