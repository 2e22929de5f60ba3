/** `GET /api/health` (anonymous): liveness and the time of the last finished run; no tenant data; 503 when storage fails. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { checkHealth } from '../../shared/usecases/health.js';

export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) => {
    const report = await checkHealth({ runs: services.runs, logger: services.logger });
    return { status: report.status === 'ok' ? 200 : 503, jsonBody: report, headers: { 'Cache-Control': 'no-store' } };
  });
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
