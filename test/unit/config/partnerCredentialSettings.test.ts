/** PARTNER_CREDENTIAL and its companion settings (design §3, issue 13): each bad combination names its setting. */
import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../shared/domain/errors.js';
import { loadSettings } from '../../../shared/config/settings.js';

const base = {
  PARTNER_CLIENT_ID: '6a8b2c1d-0000-4000-8000-000000000001',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};
const VAULT = { KEY_VAULT_URL: 'https://kv-collector.vault.azure.net' };
const MI = '7b000000-0000-4000-8000-0000000000aa';

function settingOf(env: Record<string, string>): string {
  try {
    loadSettings(env);
  } catch (e) {
    if (e instanceof ConfigError) return `${e.setting}: ${e.message}`;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('PARTNER_CREDENTIAL', () => {
  it('defaults to secret, keeping every old setting working', () => {
    expect(loadSettings({ ...base, ...VAULT }).partnerCredential).toEqual({ kind: 'secret' });
    expect(loadSettings({ ...base, PARTNER_CLIENT_SECRET: 'local-only-secret' }).partnerCredential).toEqual({
      kind: 'secret',
    });
    expect(settingOf(base)).toMatch(/^KEY_VAULT_URL: Setting KEY_VAULT_URL is missing/);
  });

  it('certificate needs PARTNER_CERTIFICATE_NAME and KEY_VAULT_URL (a local secret is no substitute)', () => {
    expect(
      loadSettings({
        ...base,
        ...VAULT,
        PARTNER_CREDENTIAL: 'certificate',
        PARTNER_CERTIFICATE_NAME: 'partner-cert',
      }).partnerCredential,
    ).toEqual({ kind: 'certificate', certificateName: 'partner-cert' });
    expect(settingOf({ ...base, ...VAULT, PARTNER_CREDENTIAL: 'certificate' })).toMatch(
      /^PARTNER_CERTIFICATE_NAME: Setting PARTNER_CERTIFICATE_NAME is missing/,
    );
    expect(
      settingOf({ ...base, ...VAULT, PARTNER_CREDENTIAL: 'certificate', PARTNER_CERTIFICATE_NAME: 'bad name!' }),
    ).toMatch(/^PARTNER_CERTIFICATE_NAME: Setting PARTNER_CERTIFICATE_NAME is invalid/);
    expect(
      settingOf({
        ...base,
        PARTNER_CLIENT_SECRET: 'local-only-secret',
        PARTNER_CREDENTIAL: 'certificate',
        PARTNER_CERTIFICATE_NAME: 'partner-cert',
      }),
    ).toMatch(/^KEY_VAULT_URL: .*PARTNER_CREDENTIAL=certificate/);
  });

  it('federated needs PARTNER_FEDERATED_CLIENT_ID (a GUID), no vault, and takes the cloud’s exchange audience', () => {
    const pub = loadSettings({ ...base, PARTNER_CREDENTIAL: 'federated', PARTNER_FEDERATED_CLIENT_ID: MI });
    expect(pub.partnerCredential).toEqual({ kind: 'federated', clientId: MI, audience: 'api://AzureADTokenExchange' });
    expect(pub.keyVaultUrl).toBeUndefined();
    const gov = loadSettings({
      ...base,
      CLOUD: 'gcchigh',
      PARTNER_CREDENTIAL: 'federated',
      PARTNER_FEDERATED_CLIENT_ID: MI,
    });
    expect(gov.partnerCredential).toMatchObject({ audience: 'api://AzureADTokenExchangeUSGov' });
    expect(
      loadSettings({ ...base, CLOUD: 'dod', PARTNER_CREDENTIAL: 'federated', PARTNER_FEDERATED_CLIENT_ID: MI })
        .partnerCredential,
    ).toMatchObject({ audience: 'api://AzureADTokenExchangeUSGov' });
    expect(settingOf({ ...base, PARTNER_CREDENTIAL: 'federated' })).toMatch(
      /^PARTNER_FEDERATED_CLIENT_ID: Setting PARTNER_FEDERATED_CLIENT_ID is missing/,
    );
    expect(settingOf({ ...base, PARTNER_CREDENTIAL: 'federated', PARTNER_FEDERATED_CLIENT_ID: 'mi-name' })).toMatch(
      /^PARTNER_FEDERATED_CLIENT_ID: Setting PARTNER_FEDERATED_CLIENT_ID is invalid/,
    );
  });

  it('an unknown kind and a malformed PARTNER_TENANT_ID are named', () => {
    expect(settingOf({ ...base, ...VAULT, PARTNER_CREDENTIAL: 'password' })).toMatch(
      /^PARTNER_CREDENTIAL: Setting PARTNER_CREDENTIAL is invalid: expected one of secret, certificate, federated/,
    );
    expect(settingOf({ ...base, ...VAULT, PARTNER_TENANT_ID: 'contoso.com' })).toMatch(/^PARTNER_TENANT_ID: /);
    expect(
      loadSettings({ ...base, ...VAULT, PARTNER_TENANT_ID: 'AB000000-0000-4000-8000-000000000001' }).partnerTenantId,
    ).toBe('ab000000-0000-4000-8000-000000000001');
  });
});
