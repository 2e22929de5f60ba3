/**
 * Page size and render time of the operator's status page (`GET /api/status`, design §11) for a fleet of 1,000
 * tenants: the real handler and real services on a local Azurite, the Tenants table seeded with a realistic mix of
 * statuses and 24 hourly runs. Prints figures; asserts nothing (timings depend on the machine).
 *
 *   npm run status:measure [-- --tenants 1000 --repeat 10]
 *
 * Reported: bytes of the HTML (and gzip-compressed, as a browser would fetch it), the handler's time end to end
 * (Tables reads included) and the rendering alone (view → HTML), median and max of `repeat` calls after one warm-up.
 */
// The CommonJS package's classes through its default export (native ESM sees no named exports).
import functions from '@azure/functions';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { Azurite } from '../../devstack/azurite.js';
import { status } from '../../functions/http/status.js';
import { renderStatusPage } from '../../functions/http/statusPage.js';
import { createServices } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config/settings.js';
import { setHostServices } from '../../shared/host/hostServices.js';
import { mapBounded } from '../../shared/lib/bounded.js';
import { silentLogger } from '../../shared/log.js';
import type { TenantPatch, TenantStatus } from '../../shared/ports.js';
import { newRunRecord } from '../../shared/usecases/runCollection.js';
import { buildStatusView } from '../../shared/usecases/statusView.js';

/** Share of the fleet in each status (the rest is active): a fleet with a realistic amount of trouble. */
const MIX: readonly [TenantStatus, number, Partial<TenantPatch>][] = [
  ['failing', 0.03, { consecutiveFailures: 4, lastErrorCode: 'HTTP_503', lastError: 'answered 503' }],
  ['consent_revoked', 0.02, { lastErrorCode: 'AADSTS700016' }],
  ['missing_permissions', 0.01, { lastErrorCode: 'MISSING_ROLE' }],
  ['pending_consent', 0.03, { consentLinkExpiresAt: '2026-01-01T00:00:00.000Z' }],
  ['disabled', 0.01, {}],
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

const ms = (v: number) => `${v.toFixed(1)} ms`;
const kib = (bytes: number) => `${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { tenants: { type: 'string', default: '1000' }, repeat: { type: 'string', default: '10' } },
  });
  const fleet = Number(values.tenants);
  const repeat = Number(values.repeat);
  if (!Number.isInteger(fleet) || fleet < 1) throw new Error('--tenants must be a whole number ≥ 1');
  if (!Number.isInteger(repeat) || repeat < 1) throw new Error('--repeat must be a whole number ≥ 1');

  const azurite = await new Azurite().start();
  try {
    const env = {
      PARTNER_CLIENT_ID: '00000000-0000-4000-8000-0000000000c1',
      PARTNER_CLIENT_SECRET: 'not-used-by-the-status-page',
      AzureWebJobsStorage: azurite.connectionString,
    };
    const services = createServices(loadSettings(env), { env, logger: silentLogger });
    await services.ready();
    setHostServices(services);

    const now = Date.now();
    const recent = new Date(now - 20 * 60_000).toISOString();
    process.stderr.write(`Seeding ${fleet} tenants and 24 runs into Azurite…\n`);
    const ids = Array.from({ length: fleet }, (_, i) => `5eed0000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    await mapBounded(ids, 16, async (tenantId, i) => {
      let at = 0;
      let patch: TenantPatch = { status: 'active', lastSuccessAt: recent, lastRunAt: recent };
      for (const [status, share, extra] of MIX) {
        at += share;
        if (i < Math.round(at * fleet)) {
          patch = { status, ...extra };
          break;
        }
      }
      await services.tenants.upsert(tenantId, {
        displayName: `Customer ${i + 1} Ltd`,
        consentedAt: recent,
        statusChangedAt: recent,
        consecutiveFailures: 0,
        ...patch,
      });
    });
    for (let h = 0; h < 24; h++) {
      const startedAt = new Date(now - h * 3_600_000 - 120_000).toISOString();
      const runId = `20261130T${String(h).padStart(2, '0')}0000Z-measure`;
      await services.runs.create({
        ...newRunRecord({ runId, startedAt, trigger: 'schedule', tenantsPlanned: fleet }),
        tenantsOk: fleet - 60,
        tenantsFailed: 30,
        tenantsSkipped: 30,
      });
      await services.runs.finish(runId, startedAt, new Date(Date.parse(startedAt) + 60_000).toISOString());
    }

    const call = async (query: Record<string, string> = {}) => {
      const request = new functions.HttpRequest({ method: 'GET', url: 'http://127.0.0.1/api/status', query });
      const context = new functions.InvocationContext({
        invocationId: 'measure',
        functionName: 'status',
        logHandler: () => {},
      });
      const started = performance.now();
      const answer = await status(request, context);
      return { ms: performance.now() - started, html: String(answer.body ?? ''), status: answer.status };
    };
    await call(); // warm-up: first reads, JIT
    const handler: number[] = [];
    let html = '';
    for (let i = 0; i < repeat; i++) {
      const r = await call();
      handler.push(r.ms);
      html = r.html;
    }
    const view = await buildStatusView(services.statusDeps(), { page: 1 });
    renderStatusPage(view);
    const render: number[] = [];
    for (let i = 0; i < repeat; i++) {
      const started = performance.now();
      renderStatusPage(view);
      render.push(performance.now() - started);
    }
    const bytes = Buffer.byteLength(html);
    const gz = gzipSync(html).length;
    const filtered = await call({ status: 'failing' });
    const last = await call({ page: String(Math.ceil(fleet / 100)) });

    const lines = [
      `Status page, ${fleet} tenants (${view.needsAction.total} need action, ${view.tenants.pages} pages of 100), ${repeat} calls after a warm-up:`,
      `  page 1 size:             ${kib(bytes)}; gzip ${kib(gz)}`,
      `  ?status=failing size:    ${kib(Buffer.byteLength(filtered.html))}`,
      `  last page size:          ${kib(Buffer.byteLength(last.html))}`,
      `  handler (Tables + HTML): median ${ms(median(handler))}, max ${ms(Math.max(...handler))}`,
      `  rendering alone:         median ${ms(median(render))}, max ${ms(Math.max(...render))}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    setHostServices(undefined);
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
