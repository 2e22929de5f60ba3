/** `GET /api/tenants/{id}` (function key): one tenant. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { requireTenant, tenantView } from '../../shared/usecases/tenants.js';
import { answerJson } from './answers.js';

export async function tenantGet(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'get', async () => ({
      status: 200,
      body: tenantView(await requireTenant(services, request.params.id ?? '')),
    })),
  );
}

app.http('tenantGet', { route: 'tenants/{id}', methods: ['GET'], authLevel: 'function', handler: tenantGet });
