/**
 * The admin API and health endpoint through the real handlers: status codes (400 bad tenant ID, 404 unknown,
 * 409 conflicting state), JSON bodies, the manual collect enqueued on the worker's queue, purge, and health
 * reporting the last finished run without tenant data.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpResponseInit } from '@azure/functions';
import { collectTenant } from '../../../functions/queue/collectTenant.js';
import { health } from '../../../functions/http/health.js';
import { tenantCollect } from '../../../functions/http/tenantCollect.js';
import { tenantCollectOutput } from '../../../functions/queue/tenantCollectOutput.js';
import { tenantDelete } from '../../../functions/http/tenantDelete.js';
import { tenantDisable } from '../../../functions/http/tenantDisable.js';
import { tenantEnable } from '../../../functions/http/tenantEnable.js';
import { tenantGet } from '../../../functions/http/tenantGet.js';
import { tenantsList } from '../../../functions/http/tenantsList.js';
import type { TenantCollectMessage } from '../../../shared/usecases/planRun.js';
import { startHarness, toArray, type Harness } from '../functionsHarness.js';

const A = 'ad000000-0000-4000-8000-00000000000a';
const B = 'ad000000-0000-4000-8000-00000000000b';
const UNKNOWN = 'ad000000-0000-4000-8000-0000000000ff';

describe('admin API and health through the function handlers', () => {
  let h: Harness;

  const call = async (
    handler: (req: ReturnType<Harness['request']>, ctx: ReturnType<Harness['context']>) => Promise<HttpResponseInit>,
    init: Parameters<Harness['request']>[0],
  ) => {
    const context = h.context('admin');
    const response = await handler(h.request(init), context);
    return {
      response,
      body: response.jsonBody as Record<string, unknown>,
      queued: context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[] | undefined,
    };
  };

  beforeAll(async () => {
    h = await startHarness({
      tenants: [
        { tenantId: A, displayName: 'Alpha', incidents: 8 },
        { tenantId: B, displayName: 'Beta', incidents: 3 },
      ],
    });
    await h.seedTenant(A, { displayName: 'Alpha', status: 'active', consentedAt: new Date().toISOString() });
    await h.seedTenant(B, { displayName: 'Beta', status: 'active', consentedAt: new Date().toISOString() });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('health answers degraded (200) with no finished run yet, and no tenant data', async () => {
    const response = await health(h.request({ path: '/api/health' }), h.context('health'));
    expect(response.status).toBe(200);
    expect(response.jsonBody).toMatchObject({
      status: 'degraded',
      lastRun: null,
      tenants: { active: 2 },
      coverage: 0,
      problems: [{ code: 'NO_RUN_YET', message: expect.any(String) }],
    });
    expect(JSON.stringify(response.jsonBody)).not.toMatch(/Alpha|Beta|ad000000/);
  });

  it('lists and gets tenants; 400 for a bad ID, 404 for an unknown one', async () => {
    const list = await call(tenantsList, { path: '/api/tenants' });
    expect(list.response.status).toBe(200);
    expect((list.body.tenants as { tenantId: string }[]).map((t) => t.tenantId).sort()).toEqual([A, B]);

    const one = await call(tenantGet, { path: `/api/tenants/${A.toUpperCase()}`, params: { id: A.toUpperCase() } });
    expect(one.response.status).toBe(200);
    expect(one.body).toMatchObject({ tenantId: A, displayName: 'Alpha', status: 'active', watermark: null });

    const bad = await call(tenantGet, { path: '/api/tenants/nope', params: { id: 'nope' } });
    expect(bad.response.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_TENANT_ID' } });

    const unknown = await call(tenantGet, { path: `/api/tenants/${UNKNOWN}`, params: { id: UNKNOWN } });
    expect(unknown.response.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'TENANT_NOT_FOUND' } });
  });

  it('POST collect enqueues one message (202) that the worker collects, and health then shows the run', async () => {
    const since = new Date(Date.now() - 72 * 3_600_000).toISOString();
    const accepted = await call(tenantCollect, {
      method: 'POST',
      path: `/api/tenants/${A}/collect`,
      params: { id: A },
      body: JSON.stringify({ since }),
    });
    expect(accepted.response.status).toBe(202);
    expect(accepted.body).toMatchObject({ tenantId: A, since });
    expect(accepted.queued).toEqual([
      { runId: accepted.body.runId, runStartedAt: expect.any(String), tenantId: A, since, slot: 0 },
    ]);

    const message = (accepted.queued as TenantCollectMessage[])[0] as TenantCollectMessage;
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
    expect((await toArray(h.services.snapshots.latest({ tenantId: A }))).length).toBe(8);
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run).toMatchObject({ trigger: 'manual', tenantsPlanned: 1, tenantsOk: 1 });

    // A minute later (the health endpoint reuses its Tenants read for up to a minute unless a run finished).
    h.setClockOffset(61_000);
    const response = await health(h.request({ path: '/api/health' }), h.context('health'));
    // The manual run recorded the partner credential; the stack's secret has no expiry, which health names
    // without degrading (design §11). Only A was collected, so half the collectable tenants are covered.
    expect(response.jsonBody).toEqual({
      status: 'healthy',
      checkedAt: expect.any(String),
      lastRun: {
        runId: run?.runId,
        startedAt: run?.startedAt,
        finishedAt: run?.finishedAt,
        ok: 1,
        failed: 0,
        skipped: 0,
      },
      tenants: expect.objectContaining({ active: 2 }),
      coverage: 0.5,
      problems: [{ code: 'CREDENTIAL_EXPIRY_UNKNOWN', message: expect.stringContaining('no expiry date') }],
    });
    h.setClockOffset(0);
    expect(JSON.stringify(response.jsonBody)).not.toContain(A);
  });

  it('POST collect takes since from the query, and rejects a bad since with 400', async () => {
    const since = '2026-01-31T00:00:00Z';
    const fromQuery = await call(tenantCollect, {
      method: 'POST',
      path: `/api/tenants/${B}/collect`,
      params: { id: B },
      query: { since },
    });
    expect(fromQuery.response.status).toBe(202);
    expect(fromQuery.queued?.[0]).toMatchObject({ tenantId: B, since });

    const bad = await call(tenantCollect, {
      method: 'POST',
      path: `/api/tenants/${B}/collect`,
      params: { id: B },
      body: JSON.stringify({ since: 'yesterday' }),
    });
    expect(bad.response.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'INVALID_SINCE' } });
    expect(bad.queued).toBeUndefined();

    const notJson = await call(tenantCollect, {
      method: 'POST',
      path: `/api/tenants/${B}/collect`,
      params: { id: B },
      body: '{since:',
    });
    expect(notJson.response.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: { code: 'INVALID_BODY' } });
  });

  it('disable → collect is 409 → enable re-verifies → delete with purge removes incidents', async () => {
    const disabled = await call(tenantDisable, {
      method: 'POST',
      path: `/api/tenants/${A}/disable`,
      params: { id: A },
    });
    expect(disabled.response.status).toBe(200);
    expect(disabled.body).toMatchObject({ tenantId: A, status: 'disabled' });

    const refused = await call(tenantCollect, { method: 'POST', path: `/api/tenants/${A}/collect`, params: { id: A } });
    expect(refused.response.status).toBe(409);
    expect(refused.body).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(refused.queued).toBeUndefined();

    const enabled = await call(tenantEnable, { method: 'POST', path: `/api/tenants/${A}/enable`, params: { id: A } });
    expect(enabled.response.status).toBe(200);
    expect(enabled.body).toMatchObject({ tenantId: A, status: 'active', verification: { ok: true } });

    const badPurge = await call(tenantDelete, {
      method: 'DELETE',
      path: `/api/tenants/${A}`,
      params: { id: A },
      query: { purge: 'yes' },
    });
    expect(badPurge.response.status).toBe(400);

    const removed = await call(tenantDelete, {
      method: 'DELETE',
      path: `/api/tenants/${A}`,
      params: { id: A },
      query: { purge: 'true' },
    });
    expect(removed.response.status).toBe(200);
    expect(removed.body).toEqual({ tenantId: A, removed: true, purged: true });
    expect(await h.services.tenants.get(A)).toBeUndefined();
    expect((await toArray(h.services.snapshots.latest({ tenantId: A }))).length).toBe(0);

    const again = await call(tenantDelete, { method: 'DELETE', path: `/api/tenants/${A}`, params: { id: A } });
    expect(again.response.status).toBe(404);
  });

  it('enable reports a failed verification with the status that explains it', async () => {
    h.stack.entra.setTenantConsent(B, 'revoked');
    const enabled = await call(tenantEnable, { method: 'POST', path: `/api/tenants/${B}/enable`, params: { id: B } });
    expect(enabled.response.status).toBe(200);
    expect(enabled.body).toMatchObject({
      tenantId: B,
      status: 'consent_revoked',
      verification: { ok: false, error: { code: 'AADSTS700016' } },
    });
    const refused = await call(tenantCollect, { method: 'POST', path: `/api/tenants/${B}/collect`, params: { id: B } });
    expect(refused.response.status).toBe(409);
  });
});
