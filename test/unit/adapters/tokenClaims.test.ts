import { describe, expect, it } from '@jest/globals';
import { UnsecuredJWT } from 'jose';
import { CollectorError } from '../../../shared/domain/errors.js';
import { verifyTokenClaims } from '../../../shared/adapters/tokenProvider.js';

const tenant = '11111111-2222-3333-4444-555555555555';
const roles = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
const token = (claims: Record<string, unknown>) => new UnsecuredJWT(claims).encode();

function failure(fn: () => void): CollectorError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CollectorError) return error;
    throw error;
  }
  throw new Error('expected a CollectorError');
}

describe('verifyTokenClaims', () => {
  it('accepts a token for the tenant with one of the read roles (tid compared case-insensitively)', () => {
    expect(() =>
      verifyTokenClaims(
        token({ tid: tenant.toUpperCase(), roles: ['Other', 'SecurityIncident.ReadWrite.All'] }),
        tenant,
        roles,
      ),
    ).not.toThrow();
  });

  it('rejects a token for another tenant: TOKEN_TENANT_MISMATCH, credential_error', () => {
    const e = failure(() =>
      verifyTokenClaims(token({ tid: '99999999-2222-3333-4444-555555555555', roles }), tenant, roles),
    );
    expect(e).toMatchObject({ code: 'TOKEN_TENANT_MISMATCH', kind: 'credential_error' });
    expect(e.message).toContain('99999999-2222-3333-4444-555555555555');
  });

  it('rejects a token without tid the same way', () => {
    expect(failure(() => verifyTokenClaims(token({ roles }), tenant, roles))).toMatchObject({
      code: 'TOKEN_TENANT_MISMATCH',
      kind: 'credential_error',
    });
  });

  it('rejects a token without a read role: MISSING_ROLE, missing_permissions', () => {
    expect(failure(() => verifyTokenClaims(token({ tid: tenant }), tenant, roles))).toMatchObject({
      code: 'MISSING_ROLE',
      kind: 'missing_permissions',
    });
    expect(
      failure(() => verifyTokenClaims(token({ tid: tenant, roles: ['Incident.Read.All'] }), tenant, roles)),
    ).toMatchObject({ code: 'MISSING_ROLE' });
  });

  it('never puts the token in the message', () => {
    const t = token({ tid: tenant, roles: [] });
    expect(failure(() => verifyTokenClaims(t, tenant, roles)).message).not.toContain(t.slice(0, 20));
    const e = failure(() => verifyTokenClaims('not-a-jwt', tenant, roles));
    expect(e.code).toBe('TOKEN_MALFORMED');
    expect(e.message).not.toContain('not-a-jwt');
  });
});
