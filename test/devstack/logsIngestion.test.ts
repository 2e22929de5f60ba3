/**
 * LogsIngestionSim on the wire (node:https, no SDK): the documented route and answers — 204 for rows (plain or gzip),
 * 401/403 for a missing token, another audience or an app without the role on the rule, 404 for an unknown rule or
 * stream, 400 for a bad api-version, gzip or body, 413 over 1 MB; injected 429 (Retry-After) and 5xx.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { bearer, request, requestToken } from './simClient.js';

describe('LogsIngestionSim', () => {
  let stack: LocalStack;
  let monitorToken: string;
  let vaultToken: string;

  beforeAll(async () => {
    stack = await startLocalStack({ azurite: false, tenants: [] });
    const token = async (scope: string) => {
      const answer = await requestToken(
        stack,
        stack.env.AZURE_TENANT_ID ?? '',
        scope,
        stack.env.AZURE_CLIENT_SECRET,
        stack.env.AZURE_CLIENT_ID,
      );
      return answer.json<{ access_token: string }>().access_token;
    };
    monitorToken = await token('https://monitor.azure.com/.default');
    vaultToken = await token('https://vault.azure.net/.default');
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const post = (
    body: string | Buffer,
    options: {
      token?: string;
      rule?: string;
      stream?: string;
      apiVersion?: string;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const { endpoint, ruleId, stream } = stack.logAnalytics;
    const url = `${endpoint}/dataCollectionRules/${options.rule ?? ruleId}/streams/${options.stream ?? stream}?api-version=${options.apiVersion ?? '2023-01-01'}`;
    return request(stack, url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token === '' ? {} : bearer(options.token ?? monitorToken)),
        ...options.headers,
      },
      body,
    });
  };
  const rows = () => stack.logsIngestion.rows(stack.logAnalytics.ruleId, stack.logAnalytics.stream);

  it('accepts a JSON array of rows, plain or gzip-encoded, with 204 and records them', async () => {
    const before = rows().length;

    const plain = await post(JSON.stringify([{ TenantId: 'a' }]));
    const zipped = await post(gzipSync(JSON.stringify([{ TenantId: 'b' }, { TenantId: 'c' }])), {
      headers: { 'content-encoding': 'gzip' },
    });

    expect([plain.status, zipped.status]).toEqual([204, 204]);
    expect(rows().slice(before)).toEqual([{ TenantId: 'a' }, { TenantId: 'b' }, { TenantId: 'c' }]);
    expect(stack.logsIngestion.uploads.slice(-2).map((u) => [u.gzip, u.rowCount])).toEqual([
      [false, 1],
      [true, 2],
    ]);
  });

  it('refuses a missing token (401), a token for another audience (403) and an app without the role (403)', async () => {
    const none = await post('[]', { token: '' });
    expect(none.status).toBe(401);
    expect(none.json()).toMatchObject({ error: { code: 'AuthenticationFailed' } });

    const vault = await post('[]', { token: vaultToken });
    expect(vault.status).toBe(403);
    expect(vault.json()).toMatchObject({ error: { code: 'InvalidAuthenticationTokenAudience' } });

    stack.logsIngestion.addRule('dcr-22222222222222222222222222222222', [stack.logAnalytics.stream], []);
    const noRole = await post('[]', { rule: 'dcr-22222222222222222222222222222222' });
    expect(noRole.status).toBe(403);
    expect(noRole.json()).toMatchObject({ error: { code: 'Forbidden' } });
  });

  it('answers 404 for an unknown rule or stream and 400 for a bad api-version, gzip or body', async () => {
    expect((await post('[]', { rule: 'dcr-00000000000000000000000000000000' })).json()).toMatchObject({
      error: { code: 'NotFound' },
    });
    const stream = await post('[]', { stream: 'Custom-Other_CL' });
    expect([stream.status, stream.json()]).toEqual([
      404,
      { error: expect.objectContaining({ code: 'InvalidStream' }) },
    ]);
    expect((await post('[]', { apiVersion: '2021-01-01' })).status).toBe(400);
    const badGzip = await post('[{}]', { headers: { 'content-encoding': 'gzip' } });
    expect([badGzip.status, badGzip.json()]).toEqual([
      400,
      { error: expect.objectContaining({ code: 'InvalidContentEncoding' }) },
    ]);
    const notArray = await post('{"TenantId":"a"}');
    expect([notArray.status, notArray.json()]).toEqual([
      400,
      { error: expect.objectContaining({ code: 'InvalidPayload' }) },
    ]);
  });

  it('answers 413 over 1 MB, and 429 with Retry-After or 503 when told to', async () => {
    const big = await post(JSON.stringify([{ x: 'y'.repeat(1_000_001) }]));
    expect(big.status).toBe(413);

    stack.logsIngestion.throttle(1, 7);
    const throttled = await post('[]');
    expect([throttled.status, throttled.headers['retry-after']]).toEqual([429, '7']);
    stack.logsIngestion.failNext(1, 503);
    expect((await post('[]')).status).toBe(503);
    expect((await post('[]')).status).toBe(204);
  });
});
