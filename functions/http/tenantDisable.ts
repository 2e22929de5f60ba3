/** `POST /api/tenants/{id}/disable` (function key): stop collecting a tenant until enabled. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { disableTenant, tenantView } from '../../shared/usecases/tenants.js';
import { answerJson } from './answers.js';

export async function tenantDisable(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'disable', async () => ({
      status: 200,
      body: tenantView(await disableTenant(services.tenantDeps(), request.params.id ?? '')),
    })),
  );
}

app.http('tenantDisable', {
  route: 'tenants/{id}/disable',
  methods: ['POST'],
  authLevel: 'function',
  handler: tenantDisable,
});
