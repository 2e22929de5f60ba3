/** `GET /api/consent/link?tenant=&name=` (function key): a one-time admin-consent link as JSON { url, state, expiresAt }. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { createConsentLink } from '../../shared/usecases/consent.js';
import { answerJson } from './answers.js';

export async function consentLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) => {
    const deps = services.consentLinkDeps();
    return answerJson(deps.logger, 'consent_link', async () => {
      const tenant = request.query.get('tenant');
      const name = request.query.get('name');
      const link = await createConsentLink(deps, { ...(tenant ? { tenant } : {}), ...(name ? { name } : {}) });
      deps.logger.info('consent.link_created', { tenantGiven: Boolean(tenant), expiresAt: link.expiresAt });
      return { status: 200, body: { url: link.url, state: link.state, expiresAt: link.expiresAt } };
    });
  });
}

app.http('consentLink', { route: 'consent/link', methods: ['GET'], authLevel: 'function', handler: consentLink });
