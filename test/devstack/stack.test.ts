import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { TableClient } from '@azure/data-tables';
import { loadSettings } from '../../shared/config/settings.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { tokenFor } from './simClient.js';

const TENANT = '12345678-aaaa-4bbb-8ccc-1234567890ab';

/** Runs a child Node process with the stack's env: it must trust the simulators through NODE_EXTRA_CA_CERTS. */
function childGet(env: Record<string, string>, url: string, token: string): Promise<string> {
  const script = `require('node:https').get(process.argv[1], { headers: { authorization: 'Bearer ' + process.argv[2] } }, (r) => { let b=''; r.on('data', (d) => b += d); r.on('end', () => console.log(r.statusCode + ' ' + JSON.parse(b).value.length)); }).on('error', (e) => { console.log('ERR ' + e.message); });`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', script, url, token],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout) => (error ? reject(error) : resolve(stdout.trim())),
    );
  });
}

describe('startLocalStack', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [{ tenantId: TENANT, incidents: 4 }] });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('produces settings the collector accepts, pointing at the simulators and Azurite', () => {
    const settings = loadSettings(stack.env);
    expect(settings.authorityHost).toBe(stack.entra.url);
    expect(settings.keyVaultUrl).toBe(stack.keyVault.url);
    expect(settings.graphEndpoint).toBe(stack.graph.url);
    expect(settings.m365dEndpoint).toBe(stack.legacy.url);
    expect(settings.partnerSecretName).toBe('partner-client-secret');
    expect(settings.isMicrosoftAuthority).toBe(false);
    expect(settings.storage).toEqual({ kind: 'connectionString', connectionString: stack.azurite?.connectionString });
    expect(stack.env.CONSENT_REDIRECT_URI).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/consent\/callback$/);
    expect(readFileSync(stack.caFile, 'utf8')).toBe(stack.caPem);
    // Secrets live in env for the collector, never in the URLs.
    expect(
      Object.entries(stack.env)
        .filter(([k]) => k !== 'AZURE_CLIENT_SECRET')
        .map(([, v]) => v)
        .join(),
    ).not.toContain(stack.env.AZURE_CLIENT_SECRET);
  });

  it('lets a child process trust the simulators through NODE_EXTRA_CA_CERTS', async () => {
    const token = await tokenFor(stack, TENANT, stack.graph.url);
    expect(await childGet(stack.env, `${stack.graph.url}/v1.0/security/incidents`, token)).toBe('200 4');
    const { NODE_EXTRA_CA_CERTS: _ca, ...untrusted } = stack.env;
    expect(await childGet(untrusted, `${stack.graph.url}/v1.0/security/incidents`, token)).toMatch(/^ERR /);
  });

  it('serves tables from Azurite through the env connection string', async () => {
    const client = TableClient.fromConnectionString(stack.env.AzureWebJobsStorage ?? '', 'SimSmoke', {
      allowInsecureConnection: true,
    });
    await client.createTable();
    await client.createEntity({ partitionKey: 'p', rowKey: 'r' });
    expect((await client.getEntity('p', 'r')).rowKey).toBe('r');
  });

  it('trusts two stacks in one process (each CA has its own subject)', async () => {
    const extra = await startLocalStack({ tenants: [], azurite: false });
    try {
      stack.trustInProcess();
      extra.trustInProcess();
      for (const url of [stack.graph.url, extra.graph.url])
        expect((await fetch(`${url}/v1.0/security/incidents`)).status).toBe(401);
    } finally {
      await extra.stop();
    }
  });

  it('stop() closes the servers, stops Azurite and deletes the CA file', async () => {
    const extra = await startLocalStack({ tenants: [], azurite: { persistent: true } });
    const pid = extra.azurite?.pid;
    expect(pid).toBeDefined();
    await extra.stop();
    expect(existsSync(extra.caFile)).toBe(false);
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
    await expect(fetch(`${extra.graph.url}/v1.0/security/incidents`)).rejects.toThrow();
  });
});
