import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ClientSecretCredential } from '@azure/identity';
import { SecretClient } from '@azure/keyvault-secrets';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { bearer, request, requestToken } from './simClient.js';

describe('KeyVaultSim', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ azurite: false, tenants: [] });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const client = () => {
    const credential = new ClientSecretCredential(
      stack.env.AZURE_TENANT_ID ?? '',
      stack.env.AZURE_CLIENT_ID ?? '',
      stack.env.AZURE_CLIENT_SECRET ?? '',
      {
        authorityHost: stack.entra.url,
        disableInstanceDiscovery: true,
      },
    );
    return new SecretClient(stack.env.KEY_VAULT_URL ?? '', credential, { disableChallengeResourceVerification: true });
  };

  it('serves the partner secret to the real SecretClient through the bearer challenge, and the new value after rotation', async () => {
    const secrets = client();
    const first = await secrets.getSecret(stack.env.PARTNER_SECRET_NAME ?? '');
    expect(first.value).toBe(stack.partnerSecret);
    expect(first.properties.id).toMatch(
      new RegExp(`^${stack.keyVault.url}/secrets/partner-client-secret/[0-9a-f]{32}$`),
    );
    expect(first.properties.createdOn).toBeInstanceOf(Date);
    const readsBefore = stack.keyVault.reads;

    const version = stack.keyVault.setSecret('partner-client-secret', 'the-rotated-value');
    const second = await secrets.getSecret('partner-client-secret');
    expect(second.value).toBe('the-rotated-value');
    expect(second.properties.version).toBe(version);
    expect(stack.keyVault.reads).toBe(readsBefore + 1);
    // The old version stays readable by its version.
    expect((await secrets.getSecret('partner-client-secret', { version: first.properties.version ?? '' })).value).toBe(
      stack.partnerSecret,
    );
    // The challenge went to the home tenant with the vault scope.
    expect(stack.entra.tokenRequests(stack.env.AZURE_TENANT_ID).map((r) => r.scope)).toContain(
      'https://vault.azure.net/.default',
    );
  });

  it('answers 401 with the challenge without a token and 404 SecretNotFound for an unknown secret', async () => {
    const anonymous = await request(stack, `${stack.keyVault.url}/secrets/partner-client-secret/?api-version=7.5`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe(
      `Bearer authorization="${stack.entra.url}/${stack.env.AZURE_TENANT_ID}", resource="https://vault.azure.net"`,
    );
    await expect(client().getSecret('no-such-secret')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SecretNotFound',
    });
  });

  it('refuses a token minted for another audience', async () => {
    const minted = await requestToken(
      stack,
      stack.env.AZURE_TENANT_ID ?? '',
      `${stack.graph.url}/.default`,
      stack.env.AZURE_CLIENT_SECRET,
      stack.env.AZURE_CLIENT_ID,
    );
    const graphToken = minted.json<{ access_token: string }>().access_token;
    const answer = await request(stack, `${stack.keyVault.url}/secrets/partner-client-secret?api-version=7.5`, {
      headers: bearer(graphToken),
    });
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain(stack.partnerSecret);
  });
});
