/** `GET /api/tenants` (function key): every registered tenant with its health columns. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { listTenantsApi } from '../../shared/usecases/adminApi.js';
import { jsonAnswer } from './answers.js';

export async function tenantsList(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    jsonAnswer(await listTenantsApi({ ...services.tenantDeps(), runs: services.runs })),
  );
}

app.http('tenantsList', { route: 'tenants', methods: ['GET'], authLevel: 'function', handler: tenantsList });
