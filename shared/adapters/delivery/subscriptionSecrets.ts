/**
 * Webhook subscription secrets in a Key Vault of their own (design §9, `SUBSCRIPTION_VAULT_URL`): the collector's
 * identity holds Key Vault Secrets Officer on THIS vault only, never write access on the partner credential's vault
 * (`KEY_VAULT_URL`; settings refuse the same vault for both). One secret per subscription, named from its ID
 * (`subscriptionSecretName`). Delete is Key Vault's soft delete, then a purge where the vault permits it (with purge
 * protection on, the deleted secret stays recoverable until its retention ends, and nothing reads it).
 * Values are registered with the log redactor and never appear in an error.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { CollectorError, isRetryableStatus, isTransientNetworkCode, NotFoundError } from '../../domain/errors.js';
import { ErrorCode } from '../../domain/errorCodes.js';
import { registerSecret } from '../../log.js';
import type { SubscriptionSecretStore } from '../../ports.js';
import { isKeyVaultHost } from '../secretProvider.js';

/** What the store needs: the vault and the identity that may write it. */
export interface KeyVaultSubscriptionSecretsOptions {
  /** `SUBSCRIPTION_VAULT_URL` (https://…vault.azure.net). */
  readonly vaultUrl: string;
  /** The collector's Azure identity (managed identity in Azure). */
  readonly credential: TokenCredential;
  /** Poll interval of the soft delete (default 2000 ms, the SDK's). */
  readonly deletePollIntervalInMs?: number;
}

/** Content type stored with every value, so an operator browsing the vault knows what it is. */
export const SUBSCRIPTION_SECRET_CONTENT_TYPE = 'application/vnd.standardwebhooks.secret';

const DIRECT_NAME = /^[0-9a-z][0-9a-z-]{0,99}$/;

/**
 * The Key Vault secret name of a subscription: `subscription-<id>` for an ID of lower-case letters, digits and
 * dashes (at most 100 characters, not starting with `x-`), else `subscription-x-<sha256 of the id, hex>`. Key Vault
 * names are 1–127 of `[0-9a-zA-Z-]` and case-insensitive; mixed-case IDs are hashed so two never share a name.
 */
export function subscriptionSecretName(subscriptionId: string): string {
  if (DIRECT_NAME.test(subscriptionId) && !subscriptionId.startsWith('x-')) return `subscription-${subscriptionId}`;
  return `subscription-x-${createHash('sha256').update(subscriptionId, 'utf8').digest('hex')}`;
}

/** SubscriptionSecretStore on Key Vault (`@azure/keyvault-secrets`). */
export class KeyVaultSubscriptionSecrets implements SubscriptionSecretStore {
  private readonly client: SecretClient;
  private readonly pollIntervalInMs: number;

  constructor(options: KeyVaultSubscriptionSecretsOptions) {
    this.client = new SecretClient(options.vaultUrl, options.credential, {
      disableChallengeResourceVerification: !isKeyVaultHost(options.vaultUrl),
    });
    this.pollIntervalInMs = options.deletePollIntervalInMs ?? 2000;
  }

  /** Store the secret as a new version (a re-put of the same subscription replaces the value read). */
  async put(subscriptionId: string, secret: string): Promise<void> {
    registerSecret(secret);
    const name = subscriptionSecretName(subscriptionId);
    try {
      await this.client.setSecret(name, secret, {
        contentType: SUBSCRIPTION_SECRET_CONTENT_TYPE,
        tags: { subscriptionId: subscriptionId.slice(0, 256) },
      });
    } catch (error) {
      throw vaultError(error, 'Storing', subscriptionId);
    }
  }

  /** The current value; NotFoundError (SUBSCRIPTION_SECRET_NOT_FOUND) when absent or deleted. */
  async get(subscriptionId: string): Promise<string> {
    const name = subscriptionSecretName(subscriptionId);
    try {
      const found = await this.client.getSecret(name);
      const value = found.value ?? '';
      if (value === '') throw notFound(subscriptionId);
      registerSecret(value);
      return value;
    } catch (error) {
      if (statusOf(error) === 404) throw notFound(subscriptionId);
      throw vaultError(error, 'Reading', subscriptionId);
    }
  }

  /** Soft delete, then purge when permitted. Absent already → done (idempotent). */
  async delete(subscriptionId: string): Promise<void> {
    const name = subscriptionSecretName(subscriptionId);
    try {
      const poller = await this.client.beginDeleteSecret(name, { intervalInMs: this.pollIntervalInMs });
      await poller.pollUntilDone();
    } catch (error) {
      if (statusOf(error) !== 404) throw vaultError(error, 'Deleting', subscriptionId);
    }
    try {
      await this.client.purgeDeletedSecret(name);
    } catch (error) {
      // 403: purge protection (or no purge permission): the soft-deleted secret expires with the vault's
      // retention. 404: nothing was deleted (already purged, or never stored).
      const status = statusOf(error);
      if (status !== 403 && status !== 404) throw vaultError(error, 'Purging', subscriptionId);
    }
  }
}

function notFound(subscriptionId: string): NotFoundError {
  return new NotFoundError(
    `Subscription ${subscriptionId} has no secret in the subscription vault.`,
    ErrorCode.SUBSCRIPTION_SECRET_NOT_FOUND,
  );
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Status, service code and network code only: never a value, body or token. The SDK error is not kept as `cause`:
 * its request (a setSecret body holds the value) would travel with it.
 */
function vaultError(error: unknown, action: string, subscriptionId: string): CollectorError {
  if (error instanceof CollectorError) return error;
  const e = (error ?? {}) as { name?: string; code?: string; details?: { error?: { code?: string } } };
  const status = statusOf(error);
  const about = `${action} the secret of subscription ${subscriptionId} in SUBSCRIPTION_VAULT_URL failed`;
  if (
    e.name === 'AuthenticationError' ||
    e.name === 'CredentialUnavailableError' ||
    e.name === 'AggregateAuthenticationError'
  )
    return new CollectorError(`${about}: the collector's identity could not authenticate (${e.name}).`, {
      code: ErrorCode.KEYVAULT_AUTH,
      kind: 'credential_error',
    });
  const serviceCode = e.details?.error?.code;
  if (status !== undefined) {
    const kind = isRetryableStatus(status)
      ? 'transient'
      : status === 401 || status === 403
        ? 'credential_error'
        : 'permanent';
    const hint = status === 403 ? ': the identity needs Key Vault Secrets Officer on this vault' : '';
    return new CollectorError(`${about}: HTTP ${status}${serviceCode ? ` ${serviceCode}` : ''}${hint}.`, {
      code: `KEYVAULT_${status}`,
      kind,
      status,
    });
  }
  const code = typeof e.code === 'string' && e.code !== '' ? e.code : 'UNKNOWN';
  return new CollectorError(`${about}: ${code}.`, {
    code: `KEYVAULT_${code}`,
    kind: isTransientNetworkCode(code) ? 'transient' : 'permanent',
  });
}
