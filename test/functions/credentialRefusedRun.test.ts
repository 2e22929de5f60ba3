/**
 * A refused partner credential in Azure (design §7 on the queue path), through the real handlers: the timer plans
 * N tenants, and one message per tenant is delivered to the worker. The first worker meets the refusal (after the
 * token provider's one re-read) and notes it on the run; the others record their tenant `credential_error` with
 * that code without calling Entra — so the token endpoint sees at most two tenants, not N.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Timer } from '@azure/functions';
import { collectSchedule } from '../../functions/timer/collectSchedule.js';
import { collectTenant } from '../../functions/queue/collectTenant.js';
import { tenantCollectOutput } from '../../functions/queue/tenantCollectOutput.js';
import { PARTNER_SECRET_NAME } from '../../devstack/stack.js';
import type { TenantCollectMessage } from '../../shared/usecases/planRun.js';
import { startHarness, type Harness } from './functionsHarness.js';

const IDS = [1, 2, 3, 4, 5].map((n) => `c4ed0000-0000-4000-8000-00000000000${n}`);
const HOUR = 3_600_000;
const timer: Timer = {
  isPastDue: false,
  schedule: { adjustForDST: true },
  scheduleStatus: {
    last: new Date(Date.now() - HOUR).toISOString(),
    next: new Date(Date.now() + HOUR).toISOString(),
    lastUpdated: new Date().toISOString(),
  },
};

describe('a refused partner secret in a queued run', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ tenants: IDS.map((tenantId) => ({ tenantId, incidents: 2 })) });
    for (const id of IDS)
      await h.seedTenant(id, { displayName: id, status: 'active', consentedAt: new Date().toISOString() });
    // A value Entra does not know, before anything read (and cached) the real one.
    h.stack.keyVault.setSecret(PARTNER_SECRET_NAME, 'not-the-partner-secret-0000');
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('calls the token endpoint for at most 2 tenants and records all N credential_error', async () => {
    const context = h.context('collectSchedule');
    await collectSchedule(timer, context);
    const messages = context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    expect(messages).toHaveLength(IDS.length);

    for (const message of messages) await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));

    // Customer tenants only (the app's own identity also asks Entra, for Key Vault).
    const asked = new Set(IDS.filter((id) => h.stack.entra.tokenRequests(id).length > 0));
    expect(asked.size).toBeGreaterThanOrEqual(1);
    expect(asked.size).toBeLessThanOrEqual(2);
    for (const id of IDS)
      expect(await h.services.tenants.get(id)).toMatchObject({
        status: 'credential_error',
        lastErrorCode: 'AADSTS7000215',
      });
    const first = messages[0] as TenantCollectMessage;
    expect(await h.services.runs.get(first.runId, first.runStartedAt)).toMatchObject({
      tenantsFailed: IDS.length,
      credentialFailure: 'AADSTS7000215',
      finishedAt: expect.any(String),
    });
  });
});
