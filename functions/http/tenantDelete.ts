/** `DELETE /api/tenants/{id}?purge=true` (function key): unregister a tenant; with purge, delete its incidents too. */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { InputError } from '../../shared/domain/errors.js';
import { parseTenantId } from '../../shared/domain/tenantId.js';
import { invoke } from '../../shared/host/invoke.js';
import { removeTenant } from '../../shared/usecases/tenants.js';
import { answerJson } from './answers.js';

/** The `purge` query parameter: absent, empty or `false` → false; `true` → true; anything else an InputError. */
export function parsePurge(raw: string | null | undefined): boolean {
  if (raw === undefined || raw === null || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw new InputError('purge', `purge must be true or false; got ${JSON.stringify(raw.slice(0, 20))}.`);
}

export async function tenantDelete(request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) =>
    answerJson(services.logger, 'remove', async () => {
      const tenantId = parseTenantId(request.params.id ?? '');
      const purge = parsePurge(request.query.get('purge'));
      await removeTenant(services.tenantDeps(), tenantId, purge);
      return { status: 200, body: { tenantId, removed: true, purged: purge } };
    }),
  );
}

app.http('tenantDelete', { route: 'tenants/{id}', methods: ['DELETE'], authLevel: 'function', handler: tenantDelete });
