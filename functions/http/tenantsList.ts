/** `GET /api/tenants` (function key): every registered tenant with its health columns. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { tenantView } from '../../shared/usecases/tenants.js';
import { answerJson } from './answers.js';

export async function tenantsList(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'list', async () => {
      const tenants = await services.tenants.list();
      return { status: 200, body: { tenants: tenants.map(tenantView) } };
    }),
  );
}

app.http('tenantsList', { route: 'tenants', methods: ['GET'], authLevel: 'function', handler: tenantsList });
