/** `POST /api/tenants/{id}/disable` (function key): stop collecting a tenant until enabled. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { disableTenantApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function tenantDisable(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(await disableTenantApi({ ...services.tenantDeps(), runs: services.runs }, request.params.id)),
  );
}

app.http('tenantDisable', {
  route: 'tenants/{id}/disable',
  methods: ['POST'],
  authLevel: 'function',
  handler: tenantDisable,
});
