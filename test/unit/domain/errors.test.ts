import { describe, expect, it } from '@jest/globals';
import { aadstsCodes, classifyHttpStatus, classifyTokenFailure, ensureError } from '../../../shared/domain/errors.js';

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

describe('classifyHttpStatus', () => {
  it('maps API statuses', () => {
    expect(classifyHttpStatus(403)).toEqual({ code: 'HTTP_403', kind: 'missing_permissions' });
    expect(classifyHttpStatus(429).kind).toBe('transient');
    expect(classifyHttpStatus(503).kind).toBe('transient');
    expect(classifyHttpStatus(400).kind).toBe('permanent');
  });
});

describe('ensureError', () => {
  it('normalises anything thrown', () => {
    expect(ensureError('boom').message).toBe('boom');
    expect(ensureError({ a: 1 }).message).toBe('{"a":1}');
    const e = new TypeError('x');
    expect(ensureError(e)).toBe(e);
  });
});
