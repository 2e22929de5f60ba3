/**
 * `POST /api/tenants/{id}/enable` (function key): re-verify a tenant and store the resulting status. Answers 200
 * with the tenant and `verification` ({ ok: true } or { ok: false, error: { code, message } }).
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { enableTenant, tenantView } from '../../shared/usecases/tenants.js';
import { answerJson } from './answers.js';

export async function tenantEnable(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'enable', async () => {
      const outcome = await enableTenant(services.tenantDeps(), request.params.id ?? '');
      return {
        status: 200,
        body: {
          ...tenantView(outcome.tenant),
          verification: outcome.failure
            ? { ok: false, error: { code: outcome.failure.code, message: outcome.failure.message } }
            : { ok: true },
        },
      };
    }),
  );
}

app.http('tenantEnable', {
  route: 'tenants/{id}/enable',
  methods: ['POST'],
  authLevel: 'function',
  handler: tenantEnable,
});
