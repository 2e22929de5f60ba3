/** How a managed-identity failure behind the federated assertion is classified (design §7). */
import { describe, expect, it } from '@jest/globals';
import { managedIdentityFailure } from '../../../shared/adapters/partnerCredential.js';
import { isPartnerCredentialCode } from '../../../shared/domain/partnerCredential.js';

const wrap = (message: string, cause: unknown) =>
  Object.assign(new Error(message), { name: 'CredentialUnavailableError', cause });
const fail = (error: unknown) => managedIdentityFailure('mi-client', 'api://AzureADTokenExchange', error);

describe('managedIdentityFailure', () => {
  it('calls MI endpoint network errors, timeouts and 5xx transient, not a credential failure', () => {
    const outages = [
      wrap('ManagedIdentityCredential: Network unreachable. Message: x', { errorCode: 'network_error' }),
      wrap(
        'ManagedIdentityCredential: Authentication failed.',
        Object.assign(new Error('c'), { code: 'ECONNREFUSED' }),
      ),
      Object.assign(new Error('aborted'), { name: 'AbortError' }),
      wrap('ManagedIdentityCredential: Authentication failed.', { status: 503, message: 'busy' }),
      Object.assign(new Error('x'), { statusCode: 500 }),
      Object.assign(new Error('x'), { statusCode: 429 }),
      wrap('Attempted to use the IMDS endpoint, but it is not available.', undefined),
      new Error('The request timed out'),
    ];
    for (const error of outages) {
      const failure = fail(error);
      expect({ kind: failure.kind, code: failure.code }).toEqual({
        kind: 'transient',
        code: 'MANAGED_IDENTITY_UNREACHABLE',
      });
      expect(isPartnerCredentialCode(failure.code)).toBe(false);
    }
  });

  it('keeps credential_error for identity-not-found and 400-class answers', () => {
    const refusals = [
      wrap('ManagedIdentityCredential: Authentication failed. Message Identity not found', { status: 400 }),
      Object.assign(new Error('forbidden'), { statusCode: 403 }),
      undefined,
      new Error('no token'),
    ];
    for (const error of refusals) {
      const failure = fail(error);
      expect({ kind: failure.kind, code: failure.code }).toEqual({
        kind: 'credential_error',
        code: 'MANAGED_IDENTITY_UNAVAILABLE',
      });
      expect(failure.message).toContain('mi-client');
    }
  });
});
