/**
 * `GET /api/incidents?tenant&since&status&severity&top&continuationToken` (function key, design §10): a page of
 * latest versions; a bad parameter answers 400 naming it.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { listIncidents } from '../../shared/usecases/readIncidents.js';
import { answerJson } from './answers.js';

export async function incidentsList(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'list incidents', async () => {
      const q = request.query;
      const body = await listIncidents(
        { incidents: services.incidents },
        {
          tenant: q.get('tenant'),
          since: q.get('since'),
          status: q.get('status'),
          severity: q.get('severity'),
          top: q.get('top'),
          continuationToken: q.get('continuationToken'),
        },
      );
      return { status: 200, body };
    }),
  );
}

app.http('incidentsList', { route: 'incidents', methods: ['GET'], authLevel: 'function', handler: incidentsList });
