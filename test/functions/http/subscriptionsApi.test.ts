/**
 * The subscriptions admin API through the real handlers on Azurite (design §9): add (201, the secret shown once),
 * list (never the secret), replay, delete; 400 naming the field, 404 for an unknown subscription. The secret is in
 * the subscription vault only: never in a table, a list answer or a log line.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpResponseInit } from '@azure/functions';
import { TableClient } from '@azure/data-tables';
import {
  subscriptionDelete,
  subscriptionReplay,
  subscriptionsAdd,
  subscriptionsList,
} from '../../../functions/http/subscriptions.js';
import { TABLE_NAMES } from '../../../shared/adapters/tables/tableClients.js';
import { subscriptionSecretName } from '../../../shared/adapters/delivery/subscriptionSecrets.js';
import { startHarness, toArray, type Harness } from '../functionsHarness.js';

describe('subscriptions admin API', () => {
  let h: Harness;

  const call = async (
    handler: (req: ReturnType<Harness['request']>, ctx: ReturnType<Harness['context']>) => Promise<HttpResponseInit>,
    init: Parameters<Harness['request']>[0],
  ) => {
    const response = await handler(h.request(init), h.context('admin'));
    return { status: response.status, body: response.jsonBody as Record<string, unknown> };
  };

  /** Every row of a table (raw, through its own client), as one JSON string. */
  const tableText = async (role: keyof typeof TABLE_NAMES): Promise<string> => {
    const client = TableClient.fromConnectionString(h.stack.env.AzureWebJobsStorage ?? '', TABLE_NAMES[role], {
      allowInsecureConnection: true,
    });
    return JSON.stringify(await toArray(client.listEntities()));
  };

  beforeAll(async () => {
    h = await startHarness({ tenants: [] });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('adds a webhook (201, generated secret once), lists it without the secret, replays and deletes it', async () => {
    const hook = h.stack.webhooks.addEndpoint();
    const added = await call(subscriptionsAdd, {
      method: 'POST',
      path: '/api/subscriptions',
      body: JSON.stringify({ url: hook.url, minSeverity: 'Medium', types: ['incident.created'] }),
    });
    expect(added.status).toBe(201);
    const id = added.body.id as string;
    const secret = added.body.secret as string;
    expect(id).toMatch(/^sub-[0-9a-f-]{36}$/);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(added.body).toEqual({
      id,
      kind: 'webhook',
      url: hook.url,
      secret,
      filters: { minSeverity: 'medium', types: ['incident.created'] },
    });

    const list = await call(subscriptionsList, { path: '/api/subscriptions' });
    expect(list.status).toBe(200);
    expect(list.body.subscriptions).toEqual([
      {
        id,
        kind: 'webhook',
        url: hook.url,
        filters: { minSeverity: 'medium', types: ['incident.created'] },
        status: 'active',
        pending: 0,
        deadLettered: 0,
      },
    ]);
    expect(JSON.stringify(list.body)).not.toContain(secret.slice(6));

    const replay = await call(subscriptionReplay, {
      method: 'POST',
      path: `/api/subscriptions/${id}/replay`,
      params: { id },
      body: JSON.stringify({ since: '2026-11-01T00:00:00Z' }),
    });
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ subscriptionId: id, deadLettersRequeued: 0 });

    // Where the secret is (the stack sets SUBSCRIPTION_VAULT_URL: the subscription vault), and where it is not.
    expect(h.stack.subscriptionVault.secretValue(subscriptionSecretName(id))).toBe(secret);
    for (const role of ['subscriptions', 'deliveryState', 'subscriptionSecrets', 'tenants', 'runs'] as const)
      expect(await tableText(role)).not.toContain(secret.slice(6));
    expect(h.logs.map((l) => l.text).join('\n')).not.toContain(secret.slice(6));

    const removed = await call(subscriptionDelete, {
      method: 'DELETE',
      path: `/api/subscriptions/${id}`,
      params: { id },
    });
    expect(removed).toEqual({ status: 200, body: { id, removed: true } });
    expect(h.stack.subscriptionVault.secretValue(subscriptionSecretName(id))).toBeUndefined();
    const again = await call(subscriptionDelete, {
      method: 'DELETE',
      path: `/api/subscriptions/${id}`,
      params: { id },
    });
    expect(again.status).toBe(404);
    expect(again.body).toMatchObject({ error: { code: 'SUBSCRIPTION_NOT_FOUND' } });
  });

  it('answers 400 naming the field for bad input', async () => {
    const cases: [string, string][] = [
      [JSON.stringify({ url: 'http://receiver.example/hook' }), 'INVALID_URL'],
      [JSON.stringify({ url: 'https://r.example/', minSeverity: 'severe' }), 'INVALID_MIN_SEVERITY'],
      [JSON.stringify({ url: 'https://r.example/', types: 'incident.created' }), 'INVALID_TYPES'],
      [JSON.stringify({ url: 'https://r.example/', secret: 'whsec_tooshort' }), 'INVALID_SECRET'],
      [
        JSON.stringify({ logAnalytics: true, endpoint: 'https://dce.example', ruleId: 'x', stream: 'Custom-A_CL' }),
        'INVALID_RULE_ID',
      ],
      ['[1,2]', 'INVALID_BODY'],
    ];
    for (const [body, code] of cases) {
      const answer = await call(subscriptionsAdd, { method: 'POST', path: '/api/subscriptions', body });
      expect({ status: answer.status, code: (answer.body.error as { code: string }).code }).toEqual({
        status: 400,
        code,
      });
    }
    const badId = await call(subscriptionDelete, {
      method: 'DELETE',
      path: '/api/subscriptions/x',
      params: { id: 'x' },
    });
    expect(badId.status).toBe(400);
    const badSince = await call(subscriptionReplay, {
      method: 'POST',
      path: '/api/subscriptions/sub-00000000-0000-4000-8000-000000000000/replay',
      params: { id: 'sub-00000000-0000-4000-8000-000000000000' },
      body: JSON.stringify({ since: 'yesterday' }),
    });
    expect(badSince.status).toBe(400);
  });
});
