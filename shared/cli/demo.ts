/**
 * `incident-collector demo` — the embedded default: a full local stack (Azurite + HTTPS simulators of Entra ID,
 * Key Vault, Microsoft Graph and the legacy API) with a few simulated customer tenants; registers them, runs
 * one collection with the real adapters, and prints what was collected per tenant. Leaves nothing behind.
 */
import { loadSettings } from '../config/settings.js';
import { createServices } from '../composition.js';
import { stderrLogger } from '../log.js';
import { runCollection } from '../usecases/runCollection.js';
import { deliverPass } from '../usecases/deliver.js';
import { addSubscription } from '../usecases/subscriptions.js';
import { registerSecret } from '../log.js';
import { addTenant } from '../usecases/tenants.js';
import { exportIncidents } from '../usecases/exportIncidents.js';
import { readHealth } from '../usecases/health.js';
import { adviseTenants } from '../usecases/tenantAdvice.js';
import { exitCodeOf, statusText, summaryTable, table } from './commands.js';
import type { Io } from './io.js';

/** The simulators ship with the source tree (devstack/), not with the deployment package. */
async function loadSimulators() {
  try {
    const [stack, tenants] = await Promise.all([
      import('../../devstack/stack.js'),
      import('../../devstack/demoTenants.js'),
    ]);
    return { startLocalStack: stack.startLocalStack, demoTenants: tenants.demoTenants };
  } catch (error) {
    throw new Error(`The demo needs the simulators from a source checkout (devstack/): ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export interface DemoOptions {
  readonly tenants?: number;
  readonly source?: 'graph' | 'm365d';
}

export async function runDemo(io: Io, options: DemoOptions = {}): Promise<number> {
  const started = Date.now();
  const { startLocalStack, demoTenants } = await loadSimulators();
  // Different sizes so the run shows paging: 120 incidents are three Graph pages (50 per page at most).
  const specs = demoTenants(options.tenants ?? 3).map((spec, i) => ({
    ...spec,
    incidents: [120, 45, 12][i % 3] as number,
  }));
  io.err(
    `Starting the local stack (Azurite + simulated Entra ID, Key Vault, Graph, legacy API) with ${specs.length} customer tenants…\n`,
  );
  // The demo's secret expires in a year, as a partner sets it to match Entra ID (no CREDENTIAL_EXPIRY_UNKNOWN warning).
  const stack = await startLocalStack({
    tenants: specs,
    partnerSecretExpiresOn: new Date(Date.now() + 365 * 24 * 3600 * 1000),
  });
  try {
    stack.trustInProcess();
    const settings = loadSettings({ ...stack.env, INCIDENT_SOURCE: options.source ?? 'graph' });
    const services = createServices(settings, { logger: stderrLogger('warn'), env: stack.env });
    await services.ready();
    for (const spec of specs) {
      const outcome = await addTenant(services.tenantDeps(), {
        tenantId: spec.tenantId,
        ...(spec.displayName ? { displayName: spec.displayName } : {}),
        verify: true,
      });
      io.err(`registered ${outcome.tenant.displayName} (${outcome.tenant.tenantId}): ${outcome.tenant.status}\n`);
    }
    // A webhook subscription to the stack's receiver (it verifies every signature with standardwebhooks).
    const hook = stack.webhooks.addEndpoint();
    registerSecret(hook.secret);
    const subscription = await addSubscription(services.subscriptionDeps(), { url: hook.url, secret: hook.secret });
    io.err(`subscribed the local webhook receiver ${hook.url} (${subscription.id})\n`);
    const summary = await runCollection(services.runDeps(), { trigger: 'demo' });
    const names = new Map(specs.map((s) => [s.tenantId, s.displayName ?? s.tenantId]));
    await io.out(
      `\nRun ${summary.runId} (${settings.incidentSource === 'graph' ? 'Microsoft Graph /security/incidents' : 'legacy /api/incidents'}):\n`,
    );
    await io.out(summaryTable(summary, names));

    const rows = [['TENANT', 'STORED', 'NEWEST INCIDENT (lastUpdate, severity, title)']];
    for (const spec of specs) {
      let stored = 0;
      let newest: { time: string; text: string } | undefined;
      for await (const line of exportIncidents(services, { tenantId: spec.tenantId })) {
        stored++;
        const row = JSON.parse(line) as { lastUpdateTime: string; incident: Record<string, unknown> };
        if (!newest || row.lastUpdateTime > newest.time) {
          const title = String(row.incident.displayName ?? row.incident.incidentName ?? '');
          newest = {
            time: row.lastUpdateTime,
            text: `${row.lastUpdateTime}  ${String(row.incident.severity ?? '')}  ${title.slice(0, 60)}`,
          };
        }
      }
      rows.push([names.get(spec.tenantId) ?? spec.tenantId, String(stored), newest?.text ?? '']);
    }
    await io.out(`\nStored snapshots (Azurite tables Incidents + IncidentHistory):\n${table(rows)}`);

    const delivery = await deliverPass(services.deliverDeps());
    const received = stack.webhooks.to(hook.path);
    const perTenant = new Map<string, number>();
    for (const d of received) perTenant.set(d.event.data.tenantId, (perTenant.get(d.event.data.tenantId) ?? 0) + 1);
    const eventRows = [['TENANT', 'EVENTS RECEIVED', 'FIRST EVENT (type, id)']];
    for (const spec of specs) {
      const first = received.find((d) => d.event.data.tenantId === spec.tenantId);
      eventRows.push([
        names.get(spec.tenantId) ?? spec.tenantId,
        String(perTenant.get(spec.tenantId) ?? 0),
        first ? `${first.event.type}  ${first.event.id}` : '',
      ]);
    }
    await io.out(
      `\nWebhook deliveries (delivered ${delivery.delivered}, failed ${delivery.failed}, pending ${delivery.pending}; ${received.length} signatures verified by the receiver):\n${table(eventRows)}`,
    );
    const { report, tenants } = await readHealth(services.healthDeps());
    const needsAction = adviseTenants(tenants, {
      now: services.clock.now(),
      defaultSource: settings.incidentSource,
    }).filter((a) => a.needsAction);
    await io.out(
      `\nHealth, as GET /api/health and "incident-collector status" report it:\n${statusText(report, needsAction)}`,
    );
    await io.out(
      `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s. Against Azure, set the settings of README "Configuration" and run "incident-collector collect".\n`,
    );
    return exitCodeOf(summary.tenants);
  } finally {
    await stack.stop();
  }
}
