/** The admin API's one error → HTTP status mapping (pure; no host, no storage). */
import { describe, expect, it } from '@jest/globals';
import { answerJson, apiErrorResponse, invalidCode } from '../../../functions/http/answers.js';
import {
  CollectorError,
  ConfigError,
  ConflictError,
  InputError,
  NotFoundError,
} from '../../../shared/domain/errors.js';
import type { Logger } from '../../../shared/ports.js';

function capturingLogger(): Logger & { lines: Array<{ event: string; fields?: Record<string, unknown> }> } {
  const lines: Array<{ event: string; fields?: Record<string, unknown> }> = [];
  const push = (event: string, fields?: Record<string, unknown>) =>
    void lines.push({ event, ...(fields ? { fields } : {}) });
  return { lines, info: push, warn: push, error: push };
}

describe('apiErrorResponse', () => {
  it('answers bad input 400 INVALID_<FIELD>, naming the field', () => {
    const logger = capturingLogger();
    expect(apiErrorResponse(new InputError('tenantId', 'tenantId must be a GUID'), logger, 'get')).toEqual({
      status: 400,
      body: { error: { code: 'INVALID_TENANT_ID', message: 'tenantId must be a GUID' } },
    });
    expect(invalidCode('since')).toBe('INVALID_SINCE');
    expect(logger.lines).toEqual([]);
  });

  it('answers 404 with the not-found code and 409 CONFLICT', () => {
    const logger = capturingLogger();
    expect(apiErrorResponse(new NotFoundError('Tenant x is not registered.'), logger, 'get')).toMatchObject({
      status: 404,
      body: { error: { code: 'TENANT_NOT_FOUND' } },
    });
    expect(apiErrorResponse(new ConflictError('disabled'), logger, 'collect')).toMatchObject({
      status: 409,
      body: { error: { code: 'CONFLICT', message: 'disabled' } },
    });
  });

  it('answers a missing app setting 500 NOT_CONFIGURED (the server is at fault, whatever the setting) and logs it', () => {
    const logger = capturingLogger();
    const answer = apiErrorResponse(new ConfigError('CONSENT_REDIRECT_URI', 'Setting missing'), logger, 'consent_link');
    expect(answer).toEqual({ status: 500, body: { error: { code: 'NOT_CONFIGURED', message: 'Setting missing' } } });
    expect(logger.lines).toEqual([
      { event: 'admin.not_configured', fields: { operation: 'consent_link', setting: 'CONSENT_REDIRECT_URI' } },
    ]);
  });

  it('answers anything else 500 INTERNAL without its message, which only the log carries', () => {
    const logger = capturingLogger();
    const failure = new CollectorError('Table storage answered 503.', { code: 'TABLE_503', kind: 'transient' });
    const answer = apiErrorResponse(failure, logger, 'list');
    expect(answer.status).toBe(500);
    expect(answer.body).toEqual({
      error: { code: 'INTERNAL', message: 'The request failed unexpectedly; see the function logs.' },
    });
    expect(logger.lines).toEqual([
      { event: 'admin.failed', fields: { operation: 'list', errorCode: 'TABLE_503', message: failure.message } },
    ]);
  });
});

describe('answerJson', () => {
  it('answers the result, or the mapped error, with the JSON headers', async () => {
    const logger = capturingLogger();
    const ok = await answerJson(logger, 'list', async () => ({ status: 200, body: { tenants: [] } }));
    expect(ok).toMatchObject({ status: 200, jsonBody: { tenants: [] }, headers: { 'Cache-Control': 'no-store' } });
    const bad = await answerJson(logger, 'get', async () => {
      throw new InputError('purge', 'purge must be true or false');
    });
    expect(bad).toMatchObject({ status: 400, jsonBody: { error: { code: 'INVALID_PURGE' } } });
  });
});
