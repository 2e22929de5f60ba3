/** `GET /api/tenants/{id}` (function key): one tenant. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { getTenantApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function tenantGet(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(await getTenantApi({ ...services.tenantDeps(), runs: services.runs }, request.params.id)),
  );
}

app.http('tenantGet', { route: 'tenants/{id}', methods: ['GET'], authLevel: 'function', handler: tenantGet });
