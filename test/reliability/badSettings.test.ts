/**
 * Bad settings at the CLI boundary (the ConfigError itself is unit-tested in test/unit/config/settings.test.ts):
 * every required setting missing, and each setting malformed, stops `collect` with exit code 2 and the setting's
 * name on stderr — in process and from the built binary — without echoing a secret value.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../../devstack/cli.js';

const valid: Record<string, string> = {
  PARTNER_CLIENT_ID: '6a8b2c1d-0000-4000-8000-000000000001',
  KEY_VAULT_URL: 'https://kv-collector.vault.azure.net/',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function without(name: string): Record<string, string> {
  const { [name]: _omit, ...rest } = valid;
  return rest;
}

const identity = { ...without('AzureWebJobsStorage'), AzureWebJobsStorage__accountName: 'stcollector01' };

const cases: [string, Record<string, string>, string][] = [
  ['PARTNER_CLIENT_ID missing', without('PARTNER_CLIENT_ID'), 'PARTNER_CLIENT_ID'],
  ['KEY_VAULT_URL and PARTNER_CLIENT_SECRET missing', without('KEY_VAULT_URL'), 'KEY_VAULT_URL'],
  ['AzureWebJobsStorage missing (both forms)', without('AzureWebJobsStorage'), 'AzureWebJobsStorage'],
  ['PARTNER_CLIENT_ID malformed', { ...valid, PARTNER_CLIENT_ID: '{6a8b2c1d}' }, 'PARTNER_CLIENT_ID'],
  ['KEY_VAULT_URL malformed', { ...valid, KEY_VAULT_URL: 'kv-collector.vault.azure.net' }, 'KEY_VAULT_URL'],
  [
    'AzureWebJobsStorage malformed',
    { ...valid, AzureWebJobsStorage: 'DefaultEndpointsProtocol=https' },
    'AzureWebJobsStorage',
  ],
  [
    'AZURE_AUTHORITY_HOST malformed',
    { ...valid, AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.com' },
    'AZURE_AUTHORITY_HOST',
  ],
  ['M365D_ENDPOINT malformed', { ...valid, M365D_ENDPOINT: 'api.security.microsoft.com' }, 'M365D_ENDPOINT'],
  [
    'AzureWebJobsStorage__accountName malformed',
    { ...identity, AzureWebJobsStorage__accountName: 'Not_An_Account' },
    'AzureWebJobsStorage__accountName',
  ],
  [
    'AzureWebJobsStorage__credential malformed',
    { ...identity, AzureWebJobsStorage__credential: 'connectionstring' },
    'AzureWebJobsStorage__credential',
  ],
  [
    'AzureWebJobsStorage__clientId malformed',
    { ...identity, AzureWebJobsStorage__clientId: 'me' },
    'AzureWebJobsStorage__clientId',
  ],
  [
    'AzureWebJobsStorage__queueServiceUri missing',
    { ...without('AzureWebJobsStorage'), AzureWebJobsStorage__tableServiceUri: 'https://st.table.core.windows.net' },
    'AzureWebJobsStorage__queueServiceUri',
  ],
  ['PARTNER_CREDENTIAL unknown', { ...valid, PARTNER_CREDENTIAL: 'password' }, 'PARTNER_CREDENTIAL'],
  [
    'certificate without PARTNER_CERTIFICATE_NAME',
    { ...valid, PARTNER_CREDENTIAL: 'certificate' },
    'PARTNER_CERTIFICATE_NAME',
  ],
  [
    'certificate without KEY_VAULT_URL',
    { ...without('KEY_VAULT_URL'), PARTNER_CREDENTIAL: 'certificate', PARTNER_CERTIFICATE_NAME: 'partner-cert' },
    'KEY_VAULT_URL',
  ],
  [
    'federated without PARTNER_FEDERATED_CLIENT_ID',
    { ...valid, PARTNER_CREDENTIAL: 'federated' },
    'PARTNER_FEDERATED_CLIENT_ID',
  ],
  ['PARTNER_TENANT_ID malformed', { ...valid, PARTNER_TENANT_ID: 'contoso.onmicrosoft.com' }, 'PARTNER_TENANT_ID'],
  ['TENANT_CONCURRENCY malformed', { ...valid, TENANT_CONCURRENCY: '1e3' }, 'TENANT_CONCURRENCY'],
  ['SYNC_OVERLAP_SECONDS malformed', { ...valid, SYNC_OVERLAP_SECONDS: ' 600s' }, 'SYNC_OVERLAP_SECONDS'],
];

describe('bad settings stop the CLI with exit code 2 naming the setting', () => {
  it.each(cases)('%s', async (_name, env, setting) => {
    const r = await runCli(['collect', '--json'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(setting);
    expect(r.stdout).toBe('');
  });

  it('the built binary exits 2 with the name on stderr and never echoes the secret it was given', () => {
    const secret = 'Xy7~do-not-echo-this-secret-value-000000';
    const r = spawnSync(process.execPath, ['dist/shared/cli/main.js', 'collect'], {
      env: { PATH: process.env.PATH ?? '', ...without('PARTNER_CLIENT_ID'), PARTNER_CLIENT_SECRET: secret },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('PARTNER_CLIENT_ID');
    expect(`${r.stdout}${r.stderr}`).not.toContain(secret);
  });
});
