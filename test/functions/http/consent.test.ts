/**
 * Consent onboarding through the real handlers: link → the Entra simulator's admin-consent redirect → callback →
 * tenant active → the next scheduled run collects it; and every failure (forged, replayed, expired and missing
 * state, access_denied, a non-GUID tenant, a token without the role) answers a 4xx page and registers nothing.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpResponseInit } from '@azure/functions';
import { collectSchedule } from '../../../functions/timer/collectSchedule.js';
import { collectTenant } from '../../../functions/queue/collectTenant.js';
import { consentCallback } from '../../../functions/http/consentCallback.js';
import { consentLink } from '../../../functions/http/consentLink.js';
import { tenantCollectOutput } from '../../../functions/queue/tenantCollectOutput.js';
import type { TenantCollectMessage } from '../../../shared/usecases/planRun.js';
import { startHarness, toArray, type Harness } from '../functionsHarness.js';

const T = {
  onboard: '7e570000-0000-4000-8000-000000000001',
  organizations: '7e570000-0000-4000-8000-000000000002',
  noRoles: '7e570000-0000-4000-8000-000000000003',
  denied: '7e570000-0000-4000-8000-000000000004',
  other: '7e570000-0000-4000-8000-000000000005',
} as const;

interface LinkBody {
  url: string;
  state: string;
  expiresAt: string;
}

describe('consent onboarding through the function handlers', () => {
  let h: Harness;

  async function link(query: Record<string, string> = {}): Promise<LinkBody> {
    const response = await consentLink(h.request({ path: '/api/consent/link', query }), h.context('consentLink'));
    expect(response.status).toBe(200);
    return response.jsonBody as LinkBody;
  }

  /** Play the admin: open the link at the Entra simulator and return the redirect's query. */
  async function adminConsent(url: string): Promise<Record<string, string>> {
    const answer = await fetch(url, { redirect: 'manual' });
    expect(answer.status).toBe(302);
    const location = new URL(answer.headers.get('location') as string);
    expect(location.pathname).toBe('/api/consent/callback');
    return Object.fromEntries(location.searchParams);
  }

  async function callback(
    query: Record<string, string>,
    method = 'GET',
  ): Promise<HttpResponseInit & { body: string; headers: Record<string, string> }> {
    const response = await consentCallback(
      h.request({ method, path: '/api/consent/callback', query }),
      h.context('consentCallback'),
    );
    return response as HttpResponseInit & { body: string; headers: Record<string, string> };
  }

  async function registeredIds(): Promise<string[]> {
    return (await h.services.tenants.list()).map((t) => t.tenantId).sort();
  }

  function expectSafePage(page: { headers: Record<string, string>; body: string }): void {
    expect(page.headers['Content-Security-Policy']).toBe("default-src 'none'; style-src 'unsafe-inline'");
    expect(page.headers['X-Content-Type-Options']).toBe('nosniff');
    expect(page.headers['Cache-Control']).toBe('no-store');
    expect(page.headers['Referrer-Policy']).toBe('no-referrer');
    expect(page.headers['Content-Type']).toMatch(/^text\/html/);
    expect(page.body).not.toMatch(/<script/i);
  }

  beforeAll(async () => {
    h = await startHarness({
      tenants: [
        { tenantId: T.onboard, displayName: 'Onboard Ltd', incidents: 12, consent: 'none' },
        { tenantId: T.organizations, incidents: 2, consent: 'none' },
        { tenantId: T.noRoles, incidents: 2, consent: 'none' },
        { tenantId: T.denied, incidents: 2, consent: 'none' },
        { tenantId: T.other, incidents: 2, consent: 'none' },
      ],
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('link → admin consent → callback registers the tenant active, and the next run collects it', async () => {
    const issued = await link({ tenant: T.onboard.toUpperCase(), name: 'Onboard Ltd' });
    expect(new URL(issued.url).pathname).toBe(`/${T.onboard}/v2.0/adminconsent`);
    expect(new URL(issued.url).searchParams.get('state')).toBe(issued.state);

    const page = await callback(await adminConsent(issued.url));
    expect(page.status).toBe(200);
    expectSafePage(page);
    expect(page.body).toContain('Onboard Ltd');
    expect(await h.services.tenants.get(T.onboard)).toMatchObject({ status: 'active', displayName: 'Onboard Ltd' });

    const plan = h.context('collectSchedule');
    await collectSchedule(
      { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
      plan,
    );
    const messages = plan.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    expect(messages.map((m) => m.tenantId)).toEqual([T.onboard]);
    await collectTenant(messages[0], h.context('collectTenant', { dequeueCount: 1 }));
    const stored = await toArray(h.services.snapshots.latest({ tenantId: T.onboard }));
    expect(stored.length).toBe(h.stack.world.graphIncidents(T.onboard).length);
    expect(stored.length).toBe(12);
  });

  it('refuses the same state a second time (replay) and registers nothing new', async () => {
    const issued = await link({ tenant: T.other });
    const query = await adminConsent(issued.url);
    const first = await callback(query);
    expect(first.status).toBe(200);
    await h.services.tenants.delete(T.other);

    const replay = await callback(query);
    expect(replay.status).toBe(400);
    expectSafePage(replay);
    expect(replay.body).toContain('already been used');
    expect(await h.services.tenants.get(T.other)).toBeUndefined();
  });

  it('re-consent of a consent_revoked tenant returns it to active with its checkpoint intact', async () => {
    const before = await h.services.tenants.get(T.onboard);
    expect(before?.checkpoint).toBeTruthy();
    await h.services.tenants.update(T.onboard, {
      status: 'consent_revoked',
      lastErrorCode: 'AADSTS700016',
      statusChangedAt: new Date().toISOString(),
    });

    const page = await callback(await adminConsent((await link({ tenant: T.onboard })).url));
    expect(page.status).toBe(200);
    expect(page.body).toContain('renewed');
    const after = await h.services.tenants.get(T.onboard);
    expect(after).toMatchObject({ status: 'active', checkpoint: before?.checkpoint, displayName: 'Onboard Ltd' });
    expect(after?.lastErrorCode).toBeUndefined();
  });

  it('an organizations link accepts the tenant the admin consented in', async () => {
    const issued = await link();
    expect(new URL(issued.url).pathname).toBe('/organizations/v2.0/adminconsent');
    h.stack.entra.nextConsent({ tenantId: T.organizations, outcome: 'grant' });
    const page = await callback(await adminConsent(issued.url));
    expect(page.status).toBe(200);
    expect(await h.services.tenants.get(T.organizations)).toMatchObject({ status: 'active' });
  });

  describe('failures answer a 4xx page and register nothing', () => {
    let before: string[];
    beforeAll(async () => {
      before = await registeredIds();
    });
    const nothingRegistered = async () => expect(await registeredIds()).toEqual(before);

    it('forged state', async () => {
      const page = await callback({
        state: randomBytes(32).toString('base64url'),
        tenant: T.denied,
        admin_consent: 'True',
      });
      expect(page.status).toBe(400);
      expectSafePage(page);
      await nothingRegistered();
    });

    it('missing state', async () => {
      const page = await callback({ tenant: T.denied, admin_consent: 'True' });
      expect(page.status).toBe(400);
      expect(page.body).toContain('consent link');
      await nothingRegistered();
    });

    it('expired state (the clock moved past 24 hours)', async () => {
      const issued = await link({ tenant: T.denied });
      const query = await adminConsent(issued.url);
      h.setClockOffset(24 * 3_600_000 + 60_000);
      try {
        const page = await callback(query);
        expect(page.status).toBe(400);
        expect(page.body).toContain('expired');
      } finally {
        h.setClockOffset(0);
      }
      await nothingRegistered();
    });

    it('error=access_denied from Entra ID (admin_consent=True is present even then)', async () => {
      const issued = await link();
      h.stack.entra.nextConsent({ tenantId: T.denied, outcome: 'deny' });
      const query = await adminConsent(issued.url);
      expect(query).toMatchObject({ error: 'access_denied', admin_consent: 'True' });
      const page = await callback(query);
      expect(page.status).toBe(400);
      expectSafePage(page);
      expect(page.body).toContain('access_denied');
      await nothingRegistered();
    });

    it('a tenant parameter that is not a GUID', async () => {
      const issued = await link();
      const page = await callback({ state: issued.state, admin_consent: 'True', tenant: '<script>alert(1)</script>' });
      expect(page.status).toBe(400);
      expectSafePage(page);
      await nothingRegistered();
    });

    it('a tenant other than the one the link was made for', async () => {
      const issued = await link({ tenant: T.denied });
      const page = await callback({ state: issued.state, admin_consent: 'True', tenant: T.noRoles });
      expect(page.status).toBe(400);
      expect(page.body).toContain(T.noRoles);
      await nothingRegistered();
    });

    it('a tenant whose token lacks the read role', async () => {
      const issued = await link();
      h.stack.entra.nextConsent({ tenantId: T.noRoles, outcome: 'grant_without_roles' });
      const page = await callback(await adminConsent(issued.url));
      expect(page.status).toBe(403);
      expectSafePage(page);
      expect(page.body).toContain('permission');
      await nothingRegistered();
    });

    it('query values appear in the page only escaped', async () => {
      const hostile = `"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;`;
      const issued = await link();
      const page = await callback({
        state: issued.state,
        admin_consent: 'True',
        error: hostile,
        error_description: hostile,
      });
      expect(page.status).toBe(400);
      expectSafePage(page);
      expect(page.body).not.toContain('<img');
      expect(page.body).not.toContain(hostile);
      expect(page.body).toContain(
        '&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;&amp;amp;',
      );
      await nothingRegistered();
    });

    it('another method answers 405 without consuming anything', async () => {
      const issued = await link({ tenant: T.denied });
      const query = await adminConsent(issued.url);
      const post = await callback(query, 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.Allow).toBe('GET');
      await nothingRegistered();
      // The state is still good for the GET that follows.
      expect((await callback(query)).status).toBe(200);
      await h.services.tenants.delete(T.denied);
    });
  });

  it('making a link deletes the states of links that expired unused, and only those', async () => {
    const stale = await link();
    const live = await link();
    // A day later: both links above have expired; the new link prunes them.
    h.setClockOffset(24 * 3_600_000 + 60_000);
    let fresh: LinkBody;
    try {
      fresh = await link();
    } finally {
      h.setClockOffset(0);
    }
    expect(h.logs.some((l) => l.text.includes('"event":"consent.expired_states_deleted"'))).toBe(true);
    // consume returns a state expired or not, so undefined means deleted; the fresh one is still there.
    for (const old of [stale, live]) expect(await h.services.consentStates.consume(old.state)).toBeUndefined();
    expect(await h.services.consentStates.consume(fresh.state)).toBeDefined();
  });

  it('a bad tenant parameter on the link endpoint is a 400 JSON error', async () => {
    const response = await consentLink(
      h.request({ path: '/api/consent/link', query: { tenant: 'not a tenant!' } }),
      h.context('consentLink'),
    );
    expect(response.status).toBe(400);
    expect(response.jsonBody).toMatchObject({ error: { code: 'INVALID_TENANT' } });
  });
});
