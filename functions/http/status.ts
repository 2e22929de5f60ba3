/**
 * `GET /api/status` (function key, design §11): the operator's status page — health, the tenants that need action
 * with the fix and the exact command, every tenant (`?status=` filters, `?page=` pages through 100 at a time), the
 * last runs and the subscriptions' backlog. HTML rendered here, no script; 503 while health is `unhealthy`; a bad
 * `page` or `status` is a 400 page naming it.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { InputError } from '../../shared/domain/errors.js';
import { invoke } from '../../shared/host/invoke.js';
import { buildStatusView, parseStatusQuery } from '../../shared/usecases/statusView.js';
import { htmlAnswer } from './answers.js';
import { escapeHtml, PAGE_HEADERS } from './consentPage.js';
import { statusPage } from './statusPage.js';

export async function status(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  let query;
  try {
    query = parseStatusQuery({ page: request.query.get('page'), status: request.query.get('status') });
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    return htmlAnswer({
      status: 400,
      headers: PAGE_HEADERS,
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Bad request</title></head><body><main><h1>Bad request</h1><p>${escapeHtml(error.message)}</p></main></body></html>\n`,
    });
  }
  const code = request.query.get('code') ?? undefined;
  return invoke(context, async (services) => {
    const view = await buildStatusView(services.statusDeps(), query);
    return htmlAnswer(statusPage(view, code !== undefined ? { code } : {}));
  });
}

app.http('status', { route: 'status', methods: ['GET'], authLevel: 'function', handler: status });
