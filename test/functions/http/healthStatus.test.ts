/**
 * `GET /api/health` and `GET /api/status` (design §11) through the real handlers, real InvocationContext and
 * HttpRequest objects, on Azurite and the simulators: 200 healthy after a run, 200 degraded with a failing tenant,
 * 503 once the newest run is stale (the services' clock moved past STALE_AFTER_MINUTES), 503 when storage is down;
 * the status page's content, filters, escaping and its 400 for a bad parameter.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectTenant } from '../../../functions/queue/collectTenant.js';
import { health } from '../../../functions/http/health.js';
import { status } from '../../../functions/http/status.js';
import { tenantCollect } from '../../../functions/http/tenantCollect.js';
import { tenantCollectOutput } from '../../../functions/queue/tenantCollectOutput.js';
import type { TenantCollectMessage } from '../../../shared/usecases/planRun.js';
import { startHarness, type Harness } from '../functionsHarness.js';

const A = '4e000000-0000-4000-8000-00000000000a';
const F = '4e000000-0000-4000-8000-00000000000f';
const X = '4e000000-0000-4000-8000-0000000000ee';
const MIN = 60_000;

describe('health and the status page through the function handlers', () => {
  let h: Harness;
  let offset = 0;
  /** Move the services' clock forward (the health endpoint's Tenants read is reused for up to a minute). */
  const later = (ms: number) => h.setClockOffset((offset += ms));

  const healthNow = async () => {
    const response = await health(h.request({ path: '/api/health' }), h.context('health'));
    return {
      status: response.status,
      body: response.jsonBody as Record<string, unknown> & { problems: { code: string }[] },
    };
  };
  const page = async (query: Record<string, string> = {}) => {
    const response = await status(h.request({ path: '/api/status', query }), h.context('status'));
    return {
      status: response.status,
      headers: response.headers as Record<string, string>,
      html: String(response.body),
    };
  };

  beforeAll(async () => {
    h = await startHarness({
      tenants: [
        { tenantId: A, displayName: 'Alpha', incidents: 3 },
        { tenantId: F, displayName: 'Failing Fabrikam', incidents: 1 },
      ],
      // Known expiry far away, so the credential adds no problem of its own.
      env: { STALE_AFTER_MINUTES: '150' },
    });
    h.stack.keyVault.setSecret('partner-client-secret', h.stack.partnerSecret, {
      expiresOn: new Date(Date.now() + 365 * 86_400_000),
    });
    await h.seedTenant(A, { displayName: 'Alpha', status: 'active', consentedAt: new Date().toISOString() });
    const context = h.context('tenantCollect');
    const accepted = await tenantCollect(
      h.request({ method: 'POST', path: `/api/tenants/${A}/collect`, params: { id: A }, body: '' }),
      context,
    );
    expect(accepted.status).toBe(202);
    const [message] = context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('200 healthy after a fresh run with every tenant collected', async () => {
    const { status: code, body } = await healthNow();
    expect(code).toBe(200);
    expect(body).toMatchObject({
      status: 'healthy',
      lastRun: { ok: 1, failed: 0, skipped: 0 },
      tenants: { active: 1, failing: 0 },
      coverage: 1,
      problems: [],
    });
  });

  it('200 degraded with a failing tenant, counted and never named', async () => {
    await h.seedTenant(F, {
      displayName: 'Failing Fabrikam',
      status: 'failing',
      consentedAt: new Date().toISOString(),
      statusChangedAt: new Date().toISOString(),
      consecutiveFailures: 4,
      lastErrorCode: 'HTTP_503',
      lastError: 'GET /security/incidents answered 503',
    });
    later(MIN + 1);
    const { status: code, body } = await healthNow();
    expect(code).toBe(200);
    expect(body).toMatchObject({ status: 'degraded', tenants: { active: 1, failing: 1 }, coverage: 0.5 });
    expect(body.problems.map((p) => p.code)).toEqual(['TENANTS_FAILING']);
    expect(JSON.stringify(body)).not.toMatch(/4e000000|Alpha|Fabrikam/);
  });

  it('the status page: headline, the failing tenant first with its fix command, all tenants, the run, no subscriptions', async () => {
    await h.seedTenant(X, { displayName: '<script>alert("x")</script> & Co', status: 'active' });
    const { status: code, headers, html } = await page({ code: 'key-from-the-url' });
    expect(code).toBe(200);
    expect(headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(headers['Content-Security-Policy']).toContain("default-src 'none'");
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toMatch(/<h1>Incident collector: <span class="badge degraded">degraded<\/span><\/h1>/);
    expect(html).toContain('<h2 id="needs-action">Tenants that need action (1)</h2>');
    const needs = html.slice(html.indexOf('id="needs-action"'), html.indexOf('id="all-tenants"'));
    expect(needs).toContain('Failing Fabrikam');
    expect(needs).toContain(`<code class="cmd">incident-collector collect --tenant ${F}</code>`);
    expect(needs).toContain('The incidents API had a service error (HTTP 503)');
    expect(needs).not.toContain('Alpha');
    expect(html).toContain('<h2 id="all-tenants">All tenants (3)</h2>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co');
    expect(html).not.toContain('<script');
    expect(html).toContain('>manual</td>');
    expect(html).toContain('<p>No subscriptions.</p>');
    // Filter links keep the key the page was opened with.
    expect(html).toContain('href="?status=failing&amp;code=key-from-the-url#all-tenants"');
  });

  it('?status= filters the list; a bad status or page is a 400 naming it', async () => {
    const failing = await page({ status: 'failing' });
    const list = failing.html.slice(failing.html.indexOf('id="all-tenants"'));
    expect(list).toContain('Tenants with status failing (1)');
    expect(list).toContain('Failing Fabrikam');
    expect(list).not.toContain('Alpha');
    const bad = await page({ status: 'sleeping' });
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('status must be one of pending_consent');
    expect((await page({ page: '-1' })).html).toContain('page must be a whole number');
  });

  it('503 unhealthy once the newest finished run is older than STALE_AFTER_MINUTES; the page says so too', async () => {
    later(150 * MIN);
    const { status: code, body } = await healthNow();
    expect(code).toBe(503);
    expect(body.status).toBe('unhealthy');
    expect(body.problems[0]).toMatchObject({ code: 'RUN_STALE' });
    const view = await page();
    expect(view.status).toBe(503);
    expect(view.html).toContain('<span class="badge unhealthy">unhealthy</span>');
    expect(view.html).toContain('RUN_STALE');
  });

  it('503 unhealthy STORAGE_UNAVAILABLE when storage is down, still without detail', async () => {
    await h.stack.azurite?.halt();
    const { status: code, body } = await healthNow();
    expect(code).toBe(503);
    expect(body).toMatchObject({
      status: 'unhealthy',
      lastRun: null,
      tenants: {},
      coverage: null,
      problems: [{ code: 'STORAGE_UNAVAILABLE' }],
    });
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|devstoreaccount/);
    const view = await page();
    expect(view.status).toBe(503);
    expect(view.html).toContain('The Runs table could not be read.');
  });
});
