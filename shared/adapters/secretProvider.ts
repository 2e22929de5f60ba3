/**
 * The partner app's client secret. In Azure it lives in Key Vault and is read without a version, so a
 * rotation needs no redeploy: the value is cached for a bounded age and re-read at once after Entra says
 * `invalid_client`. Concurrent callers share one in-flight read. The value never appears in any message.
 */
import { ClientSecretCredential, DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { normaliseCredential } from '../domain/credentialValue.js';
import { CollectorError, isRetryableStatus, isTransientNetworkCode } from '../domain/errors.js';
import type { Logger, SecretProvider, SecretRead } from '../ports.js';
import type { Settings } from '../config/settings.js';
import { ErrorCode } from '../domain/errorCodes.js';

export type SecretValue = SecretRead;

export interface KeyVaultSecretProviderOptions {
  readonly vaultUrl: string;
  readonly secretName: string;
  readonly credential: TokenCredential;
  /** How long a read value is reused (default 5 minutes). */
  readonly maxAgeMs?: number;
  readonly now?: () => number;
  /** Told (`secret.normalised`, name and version only) when a read value had surrounding whitespace removed. */
  readonly logger?: Logger;
}

const KEY_VAULT_DOMAINS = [
  '.vault.azure.net',
  '.vault.usgovcloudapi.net',
  '.vault.azure.cn',
  '.vault.microsoftazure.de',
];

/** True for a real Key Vault host; anything else (a local stand-in) needs challenge resource verification off. */
export function isKeyVaultHost(vaultUrl: string): boolean {
  const host = new URL(vaultUrl).hostname.toLowerCase();
  return KEY_VAULT_DOMAINS.some((domain) => host.endsWith(domain));
}

export class KeyVaultSecretProvider implements SecretProvider {
  private readonly client: SecretClient;
  private readonly secretName: string;
  private readonly maxAgeMs: number;
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private cached?: { secret: SecretValue; readAt: number };
  private inFlight?: Promise<SecretValue>;

  constructor(options: KeyVaultSecretProviderOptions) {
    this.secretName = options.secretName;
    this.maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.client = new SecretClient(options.vaultUrl, options.credential, {
      disableChallengeResourceVerification: !isKeyVaultHost(options.vaultUrl),
    });
  }

  async getSecret(): Promise<SecretValue> {
    const cached = this.cached;
    if (cached && this.now() - cached.readAt < this.maxAgeMs) return cached.secret;
    try {
      return await this.read();
    } catch (error) {
      // A vault hiccup should not stop collection while the last value is still usable: serve it stale.
      if (cached && error instanceof CollectorError && error.kind === 'transient') return cached.secret;
      throw error;
    }
  }

  refresh(): Promise<SecretValue> {
    return this.read();
  }

  /** Single flight: every caller during a read gets that read's result. */
  private read(): Promise<SecretValue> {
    this.inFlight ??= this.readOnce().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async readOnce(): Promise<SecretValue> {
    try {
      // No version: always the current one, so a rotation is picked up.
      const secret = await this.client.getSecret(this.secretName);
      // One normalisation for every credential value (a trailing newline from `--file` is the common case).
      const normalised = normaliseCredential(secret.value ?? '');
      if (normalised.value === '') {
        throw new CollectorError(`Key Vault secret '${this.secretName}' has no value.`, {
          code: ErrorCode.SECRET_EMPTY,
          kind: 'credential_error',
        });
      }
      const version = secret.properties.version ?? 'unversioned';
      if (normalised.changed)
        this.logger?.warn('secret.normalised', {
          source: 'key_vault',
          secretName: this.secretName,
          version,
          note: 'surrounding whitespace removed from the secret value',
        });
      const { contentType, expiresOn } = secret.properties;
      const value: SecretValue = {
        value: normalised.value,
        version,
        ...(contentType ? { contentType } : {}),
        ...(expiresOn ? { expiresOn } : {}),
      };
      this.cached = { secret: value, readAt: this.now() };
      return value;
    } catch (error) {
      throw keyVaultError(error, this.secretName);
    }
  }
}

/** Map a Key Vault (or its credential's) failure to a CollectorError; only status and code, never bodies. */
export function keyVaultError(error: unknown, secretName: string): CollectorError {
  if (error instanceof CollectorError) return error;
  const e = (error ?? {}) as {
    name?: string;
    statusCode?: number;
    code?: string;
    details?: { error?: { code?: string } };
  };
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const errorCode = e.details?.error?.code ?? e.code;
  const about = `Reading Key Vault secret '${secretName}' failed`;
  if (status === 404 || errorCode === 'SecretNotFound') {
    return new CollectorError(`${about}: secret not found.`, {
      code: ErrorCode.SECRET_NOT_FOUND,
      kind: 'credential_error',
      status: status ?? 404,
      cause: error,
    });
  }
  if (
    e.name === 'AuthenticationError' ||
    e.name === 'CredentialUnavailableError' ||
    e.name === 'AggregateAuthenticationError'
  ) {
    return new CollectorError(`${about}: the reading identity could not authenticate (${e.name}).`, {
      code: ErrorCode.KEYVAULT_AUTH,
      kind: 'credential_error',
      cause: error,
    });
  }
  if (status !== undefined) {
    const kind = isRetryableStatus(status)
      ? 'transient'
      : status === 401 || status === 403
        ? 'credential_error'
        : 'permanent';
    return new CollectorError(`${about}: HTTP ${status}${errorCode ? ` ${errorCode}` : ''}.`, {
      code: `KEYVAULT_${status}`,
      kind,
      status,
      cause: error,
    });
  }
  const code = typeof errorCode === 'string' && errorCode !== '' ? errorCode : 'UNKNOWN';
  const kind = isTransientNetworkCode(code) || e.name === 'RestError' ? 'transient' : 'permanent';
  return new CollectorError(`${about}: ${code}.`, { code: `KEYVAULT_${code}`, kind, cause: error });
}

/**
 * `PARTNER_CLIENT_SECRET` (local development only): a fixed value, version 'static', normalised like every
 * credential value (a `secret.normalised` warning, without the value, when that removed something).
 */
export class StaticSecretProvider implements SecretProvider {
  private readonly secret: SecretValue;

  constructor(raw: string, logger?: Logger) {
    const { value, changed } = normaliseCredential(raw);
    if (changed)
      logger?.warn('secret.normalised', {
        source: 'PARTNER_CLIENT_SECRET',
        note: 'surrounding whitespace removed from the secret value',
      });
    if (value === '')
      throw new CollectorError('The partner client secret is empty.', {
        code: ErrorCode.SECRET_EMPTY,
        kind: 'credential_error',
      });
    this.secret = { value, version: 'static' };
  }

  async getSecret(): Promise<SecretValue> {
    return this.secret;
  }

  async refresh(): Promise<SecretValue> {
    return this.secret;
  }
}

/**
 * The identity that reads Key Vault and Storage: managed identity in Azure, environment/developer
 * credentials locally. A non-Microsoft authority (a local stand-in) needs instance discovery off.
 */
export function createAzureCredential(
  settings: Pick<Settings, 'authorityHost' | 'isMicrosoftAuthority'>,
  env: Readonly<Record<string, string | undefined>> = process.env,
): TokenCredential {
  const clientId = env.AZURE_CLIENT_ID?.trim();
  const tenantId = env.AZURE_TENANT_ID?.trim();
  const secret = env.AZURE_CLIENT_SECRET === undefined ? undefined : normaliseCredential(env.AZURE_CLIENT_SECRET).value;
  const discovery = settings.isMicrosoftAuthority ? {} : { disableInstanceDiscovery: true };
  // The service-principal triple of EnvironmentCredential, read from the given environment (the CLI and tests
  // pass theirs explicitly; DefaultAzureCredential would only look at process.env).
  if (clientId && tenantId && secret) {
    return new ClientSecretCredential(tenantId, clientId, secret, {
      authorityHost: settings.authorityHost,
      ...discovery,
    });
  }
  return new DefaultAzureCredential({
    authorityHost: settings.authorityHost,
    ...discovery,
    ...(clientId ? { managedIdentityClientId: clientId } : {}),
  });
}
