/**
 * `GET /api/health` (anonymous): liveness, the time of the last finished run, the partner credential's expiry as
 * that run recorded it (`degraded` within 30 days), and from 2027-01-01 how many tenants still use the legacy API
 * (`degraded`, still 200); no tenant data, no secret; 503 when storage fails.
 */
import { app, type HttpRequest, type HttpResponseInit, type InvocationContext } from '@azure/functions';
import { invoke } from '../../shared/host/invoke.js';
import { checkHealth, LegacyCountCache } from '../../shared/usecases/health.js';

/** One per process: anonymous callers must not make every request scan the Tenants table (60 s cache). */
const legacyCount = new LegacyCountCache();

export async function health(_request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> {
  return invoke(context, async (services) => {
    const report = await checkHealth({
      runs: services.runs,
      logger: services.logger,
      tenants: services.tenants,
      clock: services.clock,
      defaultSource: services.sources.defaultSetting,
      legacyCount,
    });
    return {
      status: report.status === 'unavailable' ? 503 : 200,
      jsonBody: report,
      headers: { 'Cache-Control': 'no-store' },
    };
  });
}

app.http('health', { route: 'health', methods: ['GET'], authLevel: 'anonymous', handler: health });
