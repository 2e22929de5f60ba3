/**
 * KeyVaultSubscriptionSecrets against the Key Vault simulator through the real SecretClient and the Entra sim:
 * put/get/delete on the subscription vault, NotFoundError when absent, soft delete (purge refused under purge
 * protection, done without it), and the partner credential's vault refusing the collector's writes.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientSecretCredential } from '@azure/identity';
import {
  KeyVaultSubscriptionSecrets,
  subscriptionSecretName,
} from '../../../shared/adapters/delivery/subscriptionSecrets.js';
import { CollectorError, NotFoundError } from '../../../shared/domain/errors.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';

const SUB = '5b1c0000-0000-4000-8000-000000000001';
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('KeyVaultSubscriptionSecrets against the Key Vault simulator', () => {
  let stack: LocalStack;
  let credential: ClientSecretCredential;

  beforeAll(async () => {
    stack = await startLocalStack({ azurite: false, tenants: [] });
    stack.trustInProcess();
    credential = new ClientSecretCredential(
      stack.env.AZURE_TENANT_ID ?? '',
      stack.env.AZURE_CLIENT_ID ?? '',
      stack.env.AZURE_CLIENT_SECRET ?? '',
      { authorityHost: stack.entra.url, disableInstanceDiscovery: true },
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const store = (vaultUrl = stack.env.SUBSCRIPTION_VAULT_URL ?? '') =>
    new KeyVaultSubscriptionSecrets({ vaultUrl, credential, deletePollIntervalInMs: 10 });

  it('stores, reads and replaces a subscription secret under a name derived from its ID', async () => {
    const secrets = store();

    await secrets.put(SUB, SECRET);
    expect(await secrets.get(SUB)).toBe(SECRET);
    expect(stack.subscriptionVault.secretValue(`subscription-${SUB}`)).toBe(SECRET);

    await secrets.put(SUB, `${SECRET}x`);
    expect(await secrets.get(SUB)).toBe(`${SECRET}x`);
  });

  it('answers NotFoundError for a subscription without a secret', async () => {
    const error = await store()
      .get('5b1c0000-0000-4000-8000-00000000dead')
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'SUBSCRIPTION_SECRET_NOT_FOUND' });
  });

  it('soft-deletes; under purge protection the deleted secret stays recoverable, unreadable, and delete is idempotent', async () => {
    const secrets = store();
    const id = '5b1c0000-0000-4000-8000-000000000002';
    await secrets.put(id, SECRET);

    await secrets.delete(id);

    await expect(secrets.get(id)).rejects.toBeInstanceOf(NotFoundError);
    expect(stack.subscriptionVault.isDeleted(subscriptionSecretName(id))).toBe(true);
    await expect(secrets.delete(id)).resolves.toBeUndefined();
    await expect(secrets.delete('5b1c0000-0000-4000-8000-00000000beef')).resolves.toBeUndefined();
  });

  it('purges after the soft delete where the vault permits it', async () => {
    const vault = stack.subscriptionVault;
    const id = '5b1c0000-0000-4000-8000-000000000003';
    const secrets = store();
    await secrets.put(id, SECRET);
    vault.purgeProtection = false;
    try {
      await secrets.delete(id);
    } finally {
      vault.purgeProtection = true;
    }

    expect(vault.isDeleted(subscriptionSecretName(id))).toBe(false);
    expect(vault.secretValue(subscriptionSecretName(id))).toBeUndefined();
    // The name is free again: a new secret under the same subscription ID is stored.
    await secrets.put(id, SECRET);
    expect(await secrets.get(id)).toBe(SECRET);
  });

  it('cannot write the partner credential vault: 403, the value nowhere in the error', async () => {
    const error = await store(stack.env.KEY_VAULT_URL)
      .put(SUB, SECRET)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(CollectorError);
    expect(error).toMatchObject({ code: 'KEYVAULT_403', kind: 'credential_error', status: 403 });
    expect((error as Error).message).toContain('Key Vault Secrets Officer');
    expect(JSON.stringify(error)).not.toContain(SECRET);
    expect(String((error as Error).message)).not.toContain(SECRET);
    expect((error as Error).cause).toBeUndefined();
    expect(stack.keyVault.secretValue(subscriptionSecretName(SUB))).toBeUndefined();
  });
});

describe('subscriptionSecretName', () => {
  it('keeps lower-case IDs readable and hashes anything Key Vault cannot name or would fold by case', () => {
    expect(subscriptionSecretName(SUB)).toBe(`subscription-${SUB}`);
    expect(subscriptionSecretName('Sub_1')).toMatch(/^subscription-x-[0-9a-f]{64}$/);
    expect(subscriptionSecretName('ABC')).not.toBe(subscriptionSecretName('abc'));
    expect(subscriptionSecretName('x-abc')).toMatch(/^subscription-x-[0-9a-f]{64}$/);
    expect(subscriptionSecretName('a'.repeat(101))).toMatch(/^subscription-x-[0-9a-f]{64}$/);
    for (const id of [SUB, 'Sub_1', 'a'.repeat(300), 'ü'])
      expect(subscriptionSecretName(id)).toMatch(/^[0-9a-zA-Z-]{1,127}$/);
  });
});
