import { describe, expect, it } from '@jest/globals';
import { RestError } from '@azure/data-tables';
import { isLoopbackHttp, tableEndpointOf } from '../../../../shared/adapters/tables/tableClients.js';
import { errorCode, toTableError } from '../../../../shared/adapters/tables/tableErrors.js';

describe('toTableError', () => {
  it('names the service error code from details.errorCode and keeps 4xx permanent', () => {
    const e = new RestError('{"odata.error":{"code":"EntityTooLarge"}} secret-row-content', { statusCode: 400 });
    (e as { details?: unknown }).details = { errorCode: 'EntityTooLarge' };
    const translated = toTableError(e, 'write incident history');
    expect(translated).toMatchObject({
      name: 'CollectorError',
      code: 'TABLE_EntityTooLarge',
      kind: 'permanent',
      status: 400,
    });
    expect(translated.message).not.toContain('secret-row-content');
  });

  it('treats 5xx, 429, 408 and unanswered requests as transient', () => {
    for (const statusCode of [500, 503, 429, 408])
      expect(toTableError(new RestError('x', { statusCode }), 'op').kind).toBe('transient');
    const refused = toTableError(new RestError('connect ECONNREFUSED', { code: 'ECONNREFUSED' }), 'op');
    expect(refused).toMatchObject({ code: 'TABLE_ECONNREFUSED', kind: 'transient' });
    expect(toTableError(new Error('socket hang up'), 'op')).toMatchObject({
      code: 'TABLE_UNREACHABLE',
      kind: 'transient',
    });
    expect(toTableError(new RestError('x', { statusCode: 412 }), 'op')).toMatchObject({
      code: 'TABLE_412',
      kind: 'permanent',
    });
  });

  it('falls back to RestError.code when details has none', () => {
    expect(errorCode(new RestError('x', { code: 'UpdateConditionNotSatisfied', statusCode: 412 }))).toBe(
      'UpdateConditionNotSatisfied',
    );
  });
});

describe('connection helpers', () => {
  it('allows plain HTTP only to loopback endpoints', () => {
    expect(isLoopbackHttp('http://127.0.0.1:10002/devstoreaccount1')).toBe(true);
    expect(isLoopbackHttp('http://localhost:10002')).toBe(true);
    expect(isLoopbackHttp('http://[::1]:10002')).toBe(true);
    expect(isLoopbackHttp('http://example.table.core.windows.net')).toBe(false);
    expect(isLoopbackHttp('https://127.0.0.1:10002')).toBe(false);
  });

  it('finds the table endpoint of a connection string', () => {
    expect(tableEndpointOf('UseDevelopmentStorage=true')).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(
      tableEndpointOf('DefaultEndpointsProtocol=http;AccountName=a;AccountKey=k;TableEndpoint=http://127.0.0.1:5/a'),
    ).toBe('http://127.0.0.1:5/a');
    expect(
      tableEndpointOf(
        'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k;EndpointSuffix=core.usgovcloudapi.net',
      ),
    ).toBe('https://acct.table.core.usgovcloudapi.net');
  });
});
