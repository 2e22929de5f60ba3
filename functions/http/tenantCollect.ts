/**
 * `POST /api/tenants/{id}/collect` (function key), optional `since` (JSON body or query) for a backfill:
 * enqueues one message on `tenant-collect` and answers 202 { runId, tenantId, since? }.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { requestCollection } from '../../shared/usecases/requestCollection.js';
import { tenantCollectOutput } from '../queue/tenantCollectOutput.js';
import { answerJson } from './answers.js';

export async function tenantCollect(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'collect', async () => {
      const { message, ...accepted } = await requestCollection(
        {
          tenants: services.tenants,
          runs: services.runs,
          clock: services.clock,
          logger: services.logger,
          tokens: services.tokens,
        },
        { tenantId: request.params.id, bodyText: await request.text(), querySince: request.query.get('since') },
      );
      context.extraOutputs.set(tenantCollectOutput, [message]);
      return { status: 202, body: accepted };
    }),
  );
}

app.http('tenantCollect', {
  route: 'tenants/{id}/collect',
  methods: ['POST'],
  authLevel: 'function',
  extraOutputs: [tenantCollectOutput],
  handler: tenantCollect,
});
