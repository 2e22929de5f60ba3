/** `GET /api/consent/callback` (anonymous): where Entra ID sends the admin back; answers a small escaped page. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { answerConsentCallback } from './consentPage.js';
import { invoke } from '../../shared/host/invoke.js';
import type { ConsentCallbackQuery } from '../../shared/usecases/consent.js';
import { htmlAnswer } from './answers.js';

const PARAMS = ['state', 'tenant', 'error', 'error_description', 'admin_consent'] as const;

/** The first value of each parameter the callback reads; everything else in the query is ignored. */
function callbackQuery(query: URLSearchParams): ConsentCallbackQuery {
  const picked: Record<string, string> = {};
  for (const name of PARAMS) {
    const value = query.get(name);
    if (value !== null) picked[name] = value;
  }
  return picked;
}

export async function consentCallback(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    htmlAnswer(
      await answerConsentCallback(services.consentCallbackDeps(), request.method, callbackQuery(request.query)),
    ),
  );
}

app.http('consentCallback', {
  route: 'consent/callback',
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: consentCallback,
});
