/**
 * Health sees the partner credential's end coming (design §11, issue 13), through the real handlers: a manual
 * collect records the credential Key Vault holds on its run, and `GET /api/health` reads it from the newest
 * finished run with the services' (moved) clock — never a live call, never the secret or a tenant ID.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectTenant } from '../../../functions/queue/collectTenant.js';
import { health } from '../../../functions/http/health.js';
import { tenantCollect } from '../../../functions/http/tenantCollect.js';
import { tenantCollectOutput } from '../../../functions/queue/tenantCollectOutput.js';
import { PARTNER_SECRET_NAME } from '../../../devstack/stack.js';
import type { TenantCollectMessage } from '../../../shared/usecases/planRun.js';
import { startHarness, type Harness } from '../functionsHarness.js';

const A = 'ec000000-0000-4000-8000-00000000000a';
const DAY = 86_400_000;

describe('health and the partner credential expiry', () => {
  let h: Harness;
  // Health reads the newest finished run of the last 7 days (by the services' clock), so the known expiry is set
  // 33 days after the run and the clock is moved 2 and 3 days forward: 31 and 30 days before it.
  const expiresOn = new Date(Math.floor(Date.now() / 1000) * 1000 + 33 * DAY);

  async function collectOnce(): Promise<void> {
    const context = h.context('tenantCollect');
    const accepted = await tenantCollect(
      h.request({ method: 'POST', path: `/api/tenants/${A}/collect`, params: { id: A }, body: '' }),
      context,
    );
    expect(accepted.status).toBe(202);
    const [message] = context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
  }

  async function healthAt(daysBeforeExpiry: number) {
    h.setClockOffset(expiresOn.getTime() - daysBeforeExpiry * DAY - Date.now());
    const response = await health(h.request({ path: '/api/health' }), h.context('health'));
    return { status: response.status, body: response.jsonBody as Record<string, unknown> };
  }

  beforeAll(async () => {
    // Health is read 2 and 3 days after the run: a staleness limit of 7 days keeps RUN_STALE out of this test.
    h = await startHarness({
      tenants: [{ tenantId: A, displayName: 'Alpha', incidents: 2 }],
      env: { STALE_AFTER_MINUTES: '10080' },
    });
    // A new version with the known expiry, before anything read (and cached) the secret.
    h.stack.keyVault.setSecret(PARTNER_SECRET_NAME, h.stack.partnerSecret, { expiresOn });
    await h.seedTenant(A, { displayName: 'Alpha', status: 'active', consentedAt: new Date().toISOString() });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('degraded (200) 30 days before a known expiry, ok 31 days before; no secret, no tenant ID', async () => {
    await collectOnce();

    const near = await healthAt(30);
    expect(near.status).toBe(200);
    expect(near.body).toMatchObject({ status: 'degraded', problems: [{ code: 'CREDENTIAL_EXPIRING' }] });
    expect(near.body.coverage).toBe(1); // its last success, 3 days ago, is within the 7-day limit
    const problems = near.body.problems as { code: string; message: string }[];
    expect(problems).toHaveLength(1);
    expect(Object.keys(problems[0] as object).sort()).toEqual(['code', 'message']);
    expect(JSON.stringify(near.body)).not.toContain(A);
    expect(JSON.stringify(near.body)).not.toContain(h.stack.partnerSecret);

    const far = await healthAt(31);
    expect(far).toMatchObject({ status: 200, body: { status: 'healthy', problems: [] } });
  });
});
