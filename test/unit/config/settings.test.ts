import { describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../shared/domain/errors.js';
import { loadSettings, scopeFor } from '../../../shared/config/settings.js';

const valid = {
  PARTNER_CLIENT_ID: '6a8b2c1d-0000-4000-8000-000000000001',
  KEY_VAULT_URL: 'https://kv-collector.vault.azure.net/',
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
};

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadSettings(env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings (design §3)', () => {
  it('applies the documented defaults', () => {
    const s = loadSettings(valid);
    expect(s).toMatchObject({
      partnerSecretName: 'partner-client-secret',
      incidentSource: 'graph',
      cloud: 'public',
      authorityHost: 'https://login.microsoftonline.com',
      graphEndpoint: 'https://graph.microsoft.com',
      m365dEndpoint: 'https://api.security.microsoft.com',
      collectSchedule: '0 0 * * * *',
      syncOverlapSeconds: 600,
      syncLagSeconds: 300,
      syncInitialLookbackDays: 30,
      reprobeHours: 24,
      staleAfterMinutes: 150,
      keyVaultUrl: 'https://kv-collector.vault.azure.net',
      isMicrosoftAuthority: true,
    });
    expect(Object.isFrozen(s)).toBe(true);
    expect(scopeFor(s)).toBe('https://graph.microsoft.com/.default');
    expect(scopeFor(s, 'm365d')).toBe('https://api.security.microsoft.com/.default');
  });

  it('reads HISTORY_RETENTION_DAYS in whole days, 0 (keep forever) by default', () => {
    expect(loadSettings(valid).historyRetentionDays).toBe(0);
    expect(loadSettings({ ...valid, HISTORY_RETENTION_DAYS: '90' }).historyRetentionDays).toBe(90);
    for (const bad of ['-1', '1.5', '36501', 'ninety'])
      expect(errorOf({ ...valid, HISTORY_RETENTION_DAYS: bad }).message).toMatch(
        /^Setting HISTORY_RETENTION_DAYS is invalid: expected whole days between 0 \(keep forever\) and 36500/,
      );
  });

  it('reads STALE_AFTER_MINUTES in whole minutes up to 7 days (the runs health looks back through)', () => {
    expect(loadSettings({ ...valid, STALE_AFTER_MINUTES: '90' }).staleAfterMinutes).toBe(90);
    expect(loadSettings({ ...valid, STALE_AFTER_MINUTES: '10080' }).staleAfterMinutes).toBe(10080);
    expect(errorOf({ ...valid, STALE_AFTER_MINUTES: '-1' }).message).toMatch(
      /^Setting STALE_AFTER_MINUTES is invalid: expected whole minutes between 1 and 10080/,
    );
  });

  it('accepts INCIDENT_SOURCE=auto; consent links and new tenants then use the Graph scope', () => {
    const s = loadSettings({ ...valid, INCIDENT_SOURCE: 'auto' });
    expect(s.incidentSource).toBe('auto');
    expect(scopeFor(s)).toBe('https://graph.microsoft.com/.default');
    expect(scopeFor(loadSettings({ ...valid, INCIDENT_SOURCE: 'm365d' }))).toBe(
      'https://api.security.microsoft.com/.default',
    );
  });

  it('derives endpoints from CLOUD and lets explicit endpoints win', () => {
    const s = loadSettings({ ...valid, CLOUD: 'gcchigh', GRAPH_ENDPOINT: 'https://127.0.0.1:8443/' });
    expect(s.authorityHost).toBe('https://login.microsoftonline.us');
    expect(s.m365dEndpoint).toBe('https://api-gov.security.microsoft.us');
    expect(s.graphEndpoint).toBe('https://127.0.0.1:8443');
    expect(loadSettings({ ...valid, AZURE_AUTHORITY_HOST: 'https://127.0.0.1:9000' }).isMicrosoftAuthority).toBe(false);
  });

  it('accepts SYNC_LAG_SECONDS=0 and the identity-based storage form', () => {
    const { AzureWebJobsStorage: _omit, ...rest } = valid;
    const s = loadSettings({
      ...rest,
      SYNC_LAG_SECONDS: '0',
      AzureWebJobsStorage__accountName: 'stcollector01',
      AzureWebJobsStorage__credential: 'managedidentity',
    });
    expect(s.syncLagSeconds).toBe(0);
    expect(s.storage).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://stcollector01.table.core.windows.net',
      queueServiceUri: 'https://stcollector01.queue.core.windows.net',
    });
  });

  it('prefers the connection string when both storage forms are set', () => {
    expect(loadSettings({ ...valid, AzureWebJobsStorage__accountName: 'stcollector01' }).storage.kind).toBe(
      'connectionString',
    );
  });

  it.each([
    [{ PARTNER_CLIENT_ID: '' }, 'PARTNER_CLIENT_ID'],
    [{ PARTNER_CLIENT_ID: 'not-a-guid' }, 'PARTNER_CLIENT_ID'],
    [{ KEY_VAULT_URL: '' }, 'KEY_VAULT_URL'],
    [{ KEY_VAULT_URL: 'http://kv.vault.azure.net' }, 'KEY_VAULT_URL'],
    [{ AzureWebJobsStorage: '' }, 'AzureWebJobsStorage'],
    [{ AzureWebJobsStorage: 'nonsense' }, 'AzureWebJobsStorage'],
    [{ INCIDENT_SOURCE: 'splunk' }, 'INCIDENT_SOURCE'],
    [{ CLOUD: 'mooncake' }, 'CLOUD'],
    [{ SYNC_OVERLAP_SECONDS: '-5' }, 'SYNC_OVERLAP_SECONDS'],
    [{ SYNC_LAG_SECONDS: 'ten' }, 'SYNC_LAG_SECONDS'],
    [{ SYNC_INITIAL_LOOKBACK_DAYS: '0' }, 'SYNC_INITIAL_LOOKBACK_DAYS'],
    [{ REPROBE_HOURS: '1.5' }, 'REPROBE_HOURS'],
    [{ TENANT_CONCURRENCY: '0' }, 'TENANT_CONCURRENCY'],
    [{ STALE_AFTER_MINUTES: '0' }, 'STALE_AFTER_MINUTES'],
    [{ STALE_AFTER_MINUTES: '10081' }, 'STALE_AFTER_MINUTES'],
    [{ STALE_AFTER_MINUTES: '2h' }, 'STALE_AFTER_MINUTES'],
    [{ COLLECT_SCHEDULE: '0 * * * *' }, 'COLLECT_SCHEDULE'],
    [{ CONSENT_REDIRECT_URI: 'not a url' }, 'CONSENT_REDIRECT_URI'],
    [{ PARTNER_SECRET_NAME: 'bad name!' }, 'PARTNER_SECRET_NAME'],
    [{ GRAPH_ENDPOINT: 'ftp://x' }, 'GRAPH_ENDPOINT'],
    [{ SUBSCRIPTION_VAULT_URL: 'http://kv-subs.vault.azure.net' }, 'SUBSCRIPTION_VAULT_URL'],
    [{ SUBSCRIPTION_VAULT_URL: 'kv-subs' }, 'SUBSCRIPTION_VAULT_URL'],
    [{ SUBSCRIPTION_VAULT_URL: 'https://KV-Collector.vault.azure.net' }, 'SUBSCRIPTION_VAULT_URL'],
    [{ DELIVERY_TIMEOUT_SECONDS: '0' }, 'DELIVERY_TIMEOUT_SECONDS'],
    [{ DELIVERY_TIMEOUT_SECONDS: '2.5' }, 'DELIVERY_TIMEOUT_SECONDS'],
    [{ DELIVERY_RETRY_SCHEDULE: '5,,300' }, 'DELIVERY_RETRY_SCHEDULE'],
    [{ DELIVERY_RETRY_SCHEDULE: '5,0' }, 'DELIVERY_RETRY_SCHEDULE'],
    [{ DELIVERY_RETRY_SCHEDULE: 'soon' }, 'DELIVERY_RETRY_SCHEDULE'],
  ])('a bad %p names %s', (override, setting) => {
    const e = errorOf({ ...valid, ...override });
    expect(e.setting).toBe(setting);
    expect(e.message).toContain(setting);
  });

  it('reads SUBSCRIPTION_VAULT_URL without its trailing slash; unset (or blank) leaves it undefined', () => {
    expect(
      loadSettings({ ...valid, SUBSCRIPTION_VAULT_URL: 'https://kv-subs.vault.azure.net/' }).subscriptionVaultUrl,
    ).toBe('https://kv-subs.vault.azure.net');
    expect(loadSettings(valid).subscriptionVaultUrl).toBeUndefined();
    expect(loadSettings({ ...valid, SUBSCRIPTION_VAULT_URL: ' ' }).subscriptionVaultUrl).toBeUndefined();
  });

  it('refuses the partner credential vault as the subscription vault, saying why', () => {
    const e = errorOf({ ...valid, SUBSCRIPTION_VAULT_URL: 'https://kv-collector.vault.azure.net' });
    expect(e.setting).toBe('SUBSCRIPTION_VAULT_URL');
    expect(e.message).toMatch(/partner credential \(KEY_VAULT_URL\)/);
  });

  it('delivery settings: defaults 15 s and 5,300,1800,7200,18000,36000,36000 (8 attempts); values are parsed', () => {
    expect(loadSettings(valid)).toMatchObject({
      deliveryTimeoutSeconds: 15,
      deliveryRetrySchedule: [5, 300, 1800, 7200, 18000, 36000, 36000],
    });
    expect(
      loadSettings({ ...valid, DELIVERY_TIMEOUT_SECONDS: '3', DELIVERY_RETRY_SCHEDULE: ' 1, 2 ,3' }),
    ).toMatchObject({ deliveryTimeoutSeconds: 3, deliveryRetrySchedule: [1, 2, 3] });
  });

  it('never echoes a secret value in an error', () => {
    const e = errorOf({
      ...valid,
      KEY_VAULT_URL: '',
      PARTNER_CLIENT_ID: 'zzz',
      PARTNER_CLIENT_SECRET: 'very-secret-value',
    });
    expect(e.message).not.toContain('very-secret-value');
  });
});
