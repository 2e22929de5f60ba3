/** The consent pages: every outcome has a page with the right status and headers; interpolated values are escaped. */
import { describe, expect, it } from '@jest/globals';
import { escapeHtml, methodNotAllowedPage, renderConsentPage } from '../../../functions/http/consentPage.js';
import type { ConsentReason } from '../../../shared/usecases/consent.js';

const REASONS: ConsentReason[] = [
  'missing_state',
  'invalid_state',
  'expired_state',
  'consent_error',
  'invalid_tenant',
  'tenant_mismatch',
  'verification_failed',
  'missing_permissions',
  'temporarily_unavailable',
];
const HOSTILE = `<script>alert("x")</script>'&`;

describe('consent pages', () => {
  it('escapes the five HTML-significant characters', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });

  it.each(REASONS)('%s: a page with the outcome status, protective headers and only escaped values', (reason) => {
    const page = renderConsentPage({
      ok: false,
      status: 400,
      reason,
      detail: { code: HOSTILE, description: HOSTILE, tenantId: HOSTILE },
    });
    expect(page.status).toBe(400);
    expect(page.headers).toMatchObject({
      'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
    expect(page.body).not.toContain('<script');
    expect(page.body).not.toContain(`"x"`);
    expect(page.body).toMatch(/<h1>[^<]+<\/h1>/);
    // Each page tells the admin what to do next.
    expect(page.body.match(/<p>/g)?.length).toBe(2);
  });

  it('the pages that show a value show it escaped', () => {
    const page = renderConsentPage({
      ok: false,
      status: 400,
      reason: 'consent_error',
      detail: { code: 'access_denied', description: HOSTILE },
    });
    expect(page.body).toContain('access_denied');
    expect(page.body).toContain(escapeHtml(HOSTILE));
  });

  it('success names the tenant, escaped', () => {
    const page = renderConsentPage({
      ok: true,
      reconsented: false,
      tenant: {
        tenantId: '00000000-0000-0000-0000-000000000001',
        displayName: HOSTILE,
        status: 'active',
        consecutiveFailures: 0,
      },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain(escapeHtml(HOSTILE));
    expect(page.body).not.toContain('<script');
  });

  it('405 allows GET only', () => {
    expect(methodNotAllowedPage()).toMatchObject({ status: 405, headers: { Allow: 'GET' } });
  });
});
