import { describe, expect, it } from '@jest/globals';
import { CollectorError } from '../../../shared/domain/errors.js';
import { registerSecret } from '../../../shared/log.js';
import { checkCredentials } from '../../../shared/usecases/credentialsCheck.js';

const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJlLXN0dWZm';
const clock = { now: () => new Date('2026-11-01T00:00:00Z') };

describe('credentials check', () => {
  it('redacts tokens and registered secrets from the read and proof error messages', async () => {
    registerSecret('check-secret-value-42');
    const unreadable = await checkCredentials({
      clock,
      partnerTenantId: 'home',
      tokens: {
        describeCredential: () =>
          Promise.reject(new CollectorError(`vault said check-secret-value-42`, { code: 'SECRET', kind: 'permanent' })),
        proveCredential: () => Promise.reject(new Error('unused')),
      },
    });
    expect(unreadable.proof.error?.code).toBe('SECRET');
    expect(JSON.stringify(unreadable)).not.toContain('check-secret-value-42');

    const refused = await checkCredentials({
      clock,
      partnerTenantId: 'home',
      tokens: {
        describeCredential: () => Promise.resolve({ kind: 'secret', version: 'v1', checkedAt: '2026-11-01T00:00:00Z' }),
        proveCredential: () =>
          Promise.reject(new CollectorError(`Entra refused ${jwt}`, { code: 'AUTH_FAILED', kind: 'permanent' })),
      },
    });
    expect(refused.proof).toMatchObject({ status: 'failed', error: { code: 'AUTH_FAILED' } });
    expect(JSON.stringify(refused)).not.toContain(jwt);
  });
});
