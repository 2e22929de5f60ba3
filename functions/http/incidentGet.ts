/**
 * `GET /api/tenants/{tenantId}/incidents/{incidentId}[?history=true]` (function key, design §10): the latest
 * version, or every stored version oldest first; 404 when the incident is not stored.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { getIncident, parseHistoryFlag } from '../../shared/usecases/readIncidents.js';
import { answerJson } from './answers.js';

export async function incidentGet(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'get incident', async () => {
      const history = parseHistoryFlag(request.query.get('history'));
      const body = await getIncident(
        { incidents: services.incidents },
        request.params.tenantId,
        request.params.incidentId,
        history,
      );
      return { status: 200, body };
    }),
  );
}

app.http('incidentGet', {
  route: 'tenants/{tenantId}/incidents/{incidentId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: incidentGet,
});
