/** The error catalogue and the one retry rule for HTTP statuses and network codes. */
import { describe, expect, it } from '@jest/globals';
import { ERROR_CATALOGUE, ErrorCode, errorCodeInfo } from '../../../shared/domain/errorCodes.js';
import { isRetryableStatus, isTransientNetworkCode, NotFoundError } from '../../../shared/domain/errors.js';

describe('the error catalogue', () => {
  it('gives every code its own name as constant, a kind and a meaning', () => {
    for (const [code, info] of Object.entries(ERROR_CATALOGUE)) {
      expect(ErrorCode[code as ErrorCode]).toBe(code);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
      expect(info.meaning.length).toBeGreaterThan(10);
      expect(errorCodeInfo(code)).toBe(info);
    }
  });

  it('leaves code families (HTTP_<status>, AADSTS<n>) and unknown strings out', () => {
    expect(errorCodeInfo('HTTP_503')).toBeUndefined();
    expect(errorCodeInfo('AADSTS700016')).toBeUndefined();
    expect(errorCodeInfo('toString')).toBeUndefined();
  });

  it('is the one not-found form: NotFoundError carries a catalogue code', () => {
    expect(new NotFoundError('Tenant x is not registered.')).toMatchObject({
      code: 'TENANT_NOT_FOUND',
      kind: 'permanent',
    });
    expect(new NotFoundError('gone', ErrorCode.TABLE_RUN_NOT_FOUND).code).toBe('TABLE_RUN_NOT_FOUND');
  });
});

describe('isRetryableStatus', () => {
  it('retries timeouts, throttling and every 5xx, nothing else', () => {
    for (const status of [408, 429, 500, 501, 502, 503, 504, 599]) expect(isRetryableStatus(status)).toBe(true);
    for (const status of [200, 400, 401, 403, 404, 409, 412, 413]) expect(isRetryableStatus(status)).toBe(false);
  });
});

describe('isTransientNetworkCode', () => {
  it('knows the socket and DNS failures, not other codes', () => {
    for (const code of ['ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'EADDRINUSE']) {
      expect(isTransientNetworkCode(code)).toBe(true);
    }
    for (const code of [undefined, 'ERR_INVALID_URL', 'EACCES']) expect(isTransientNetworkCode(code)).toBe(false);
  });
});
