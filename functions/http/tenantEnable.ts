/** `POST /api/tenants/{id}/enable` (function key): re-verify a tenant and store the resulting status. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { enableTenantApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function tenantEnable(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(await enableTenantApi({ ...services.tenantDeps(), runs: services.runs }, request.params.id)),
  );
}

app.http('tenantEnable', {
  route: 'tenants/{id}/enable',
  methods: ['POST'],
  authLevel: 'function',
  handler: tenantEnable,
});
