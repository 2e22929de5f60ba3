/**
 * `GET /api/health` (anonymous, design §11): `{ status: healthy|degraded|unhealthy, checkedAt, lastRun, tenants,
 * coverage, problems }` from stored state only; 503 when `unhealthy` (a stale or missing run, the partner
 * credential refused, storage unreadable), else 200. Counts and codes only: no tenant ID or name, no secret.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { checkHealth, healthHttpStatus, TenantListCache } from '../../shared/usecases/health.js';

/** One per process: anonymous callers must not make every request scan the Tenants table (60 s cache). */
const tenantCache = new TenantListCache();

export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) => {
    const report = await checkHealth({ ...services.healthDeps(), tenantCache });
    return {
      status: healthHttpStatus(report),
      jsonBody: report,
      headers: { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' },
    };
  });
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
