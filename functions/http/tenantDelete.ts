/** `DELETE /api/tenants/{id}?purge=true` (function key): unregister a tenant; with purge, delete its incidents too. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { removeTenantApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function tenantDelete(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(
      await removeTenantApi(
        { ...services.tenantDeps(), runs: services.runs },
        request.params.id,
        request.query.get('purge'),
      ),
    ),
  );
}

app.http('tenantDelete', { route: 'tenants/{id}', methods: ['DELETE'], authLevel: 'function', handler: tenantDelete });
