/** `GET /api/consent/link?tenant=&name=` (function key): a one-time admin-consent link as JSON { url, state, expiresAt }. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { consentLinkApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function consentLink(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(
      await consentLinkApi(services.consentLinkDeps(), {
        tenant: request.query.get('tenant'),
        name: request.query.get('name'),
      }),
    ),
  );
}

app.http('consentLink', { route: 'consent/link', methods: ['GET'], authLevel: 'function', handler: consentLink });
