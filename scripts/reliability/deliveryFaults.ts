/**
 * Delivery fault family (design §9): a webhook receiver that answers 500 for a while, times out, or resets the
 * connection; Logs Ingestion answering 429 for a while (a log-analytics subscription); the deliverer SIGKILLed
 * mid-send; `collect` SIGKILLed after writing its versions and before its delivery pass — while events of several
 * tenants and several versions per incident wait. Passes run (on the real adapters, with a 1-second retry schedule
 * and timeout) until nothing is owed, then the receiver's record is compared with the event log: events lost
 * (neither received nor dead-lettered), versions received out of order per incident (a first receipt of a version
 * older than one already received), duplicates (the same event id received again — allowed, at least once); and
 * the raw IncidentHistory partition (storeTruth) gives versions without an event and events without a version.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../../devstack/stack.js';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { createLogger } from '../../shared/log.js';
import { deliverPass } from '../../shared/usecases/deliver.js';
import { addSubscription } from '../../shared/usecases/subscriptions.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { eventTruth } from './storeTruth.js';
import { TableProxy, viaTablePort } from './tableProxy.js';
import { TenantAllocator } from './tenantAllocator.js';

/**
 * `kill`: the real CLI (`deliver`, built dist/) runs as a child and is SIGKILLed while its `faultTimes`-th POST is at
 * the receiver (which then records it: delivered, but the dead process never saved its cursor); a new process,
 * its lease clock past the dead one's lease, delivers the rest.
 * `collectKill`: the last round of changes is collected by the real CLI (`collect`) as a child, SIGKILLed when its
 * delivery pass first reads the Subscriptions table (every version of the run written, no event sent); `deliver`
 * passes then send everything.
 * `la429`: a log-analytics subscription; the Logs Ingestion simulator answers `faultTimes` uploads 429.
 */
export type DeliveryFault = 'http500' | 'timeout' | 'reset' | 'kill' | 'collectKill' | 'la429';

export interface DeliveryFaultRow {
  readonly fault: DeliveryFault;
  /** Events the subscription is owed (written after it was added). */
  readonly events: number;
  /** Deliveries the receiver verified (duplicates included). */
  readonly received: number;
  /** Attempts the fault answered. */
  readonly faulted: number;
  readonly lost: number;
  readonly outOfOrder: number;
  readonly duplicates: number;
  readonly deadLettered: number;
  /** Delivery passes until nothing was owed (bounded by `maxPasses`). */
  readonly passes: number;
  /** Stored versions no event row points to (storeTruth, every tenant of the row). */
  readonly versionsWithoutEvent: number;
  /** Event rows whose version is not stored. */
  readonly eventsWithoutVersion: number;
}

export interface DeliveryFaultOptions {
  readonly stack: LocalStack;
  readonly allocator: TenantAllocator;
  readonly fault: DeliveryFault;
  readonly tenants: number;
  readonly incidents: number;
  /** Changed versions written per tenant after the first collection (each a new event). */
  readonly changes: number;
  /** How many attempts the fault answers before the receiver is healthy again. */
  readonly faultTimes: number;
  readonly logLines: string[];
  readonly maxPasses?: number;
  /** Where dist/ is (the `kill` fault's child process). */
  readonly repoRoot?: string;
  /** The child's output (for the secret scan). */
  readonly childOutput?: string[];
}

/** Run `deliver` in a child process and SIGKILL it while its `at`-th POST to `hookPath` is being answered. */
async function killDeliverer(
  options: DeliveryFaultOptions,
  env: Record<string, string>,
  hookPath: string,
  at: number,
): Promise<boolean> {
  const { stack } = options;
  let seen = 0;
  let killed = false;
  let kill: () => void = () => undefined;
  const exited: { promise?: Promise<void> } = {};
  stack.webhooks.onRequest = async (req) => {
    if (req.path !== hookPath || ++seen !== at) return;
    killed = true;
    kill();
    await exited.promise;
  };
  try {
    const child = spawn(
      process.execPath,
      [path.join(options.repoRoot ?? process.cwd(), 'dist/shared/cli/main.js'), 'deliver', '--json'],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    kill = () => child.kill('SIGKILL');
    exited.promise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let output = '';
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    await exited.promise;
    options.childOutput?.push(output);
  } finally {
    stack.webhooks.onRequest = undefined;
  }
  return killed;
}

/**
 * Run `collect` for `tenants` in a child process, its table traffic through a proxy, and SIGKILL it when it first
 * touches the Subscriptions table (its delivery pass starting: every version of the run is written by then).
 */
async function killCollector(
  options: DeliveryFaultOptions,
  env: Record<string, string>,
  tenants: readonly string[],
): Promise<boolean> {
  const { stack } = options;
  let killed = false;
  let kill: () => void = () => undefined;
  const proxy = await new TableProxy(stack.azurite?.tablePort as number, (_method, url) => {
    if (killed || !url.includes('/Subscriptions')) return 'forward';
    killed = true;
    kill();
    return 'hold';
  }).start();
  try {
    const child = spawn(
      process.execPath,
      [
        path.join(options.repoRoot ?? process.cwd(), 'dist/shared/cli/main.js'),
        'collect',
        '--json',
        ...tenants.flatMap((t) => ['--tenant', t]),
      ],
      {
        env: {
          ...process.env,
          ...env,
          AzureWebJobsStorage: viaTablePort(stack.azurite?.connectionString as string, proxy.port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    kill = () => child.kill('SIGKILL');
    let output = '';
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    options.childOutput?.push(output);
  } finally {
    await proxy.stop();
  }
  return killed;
}

export async function deliveryFault(options: DeliveryFaultOptions): Promise<DeliveryFaultRow> {
  const { stack, fault } = options;
  const env = {
    ...stack.env,
    SYNC_LAG_SECONDS: '0',
    DELIVERY_TIMEOUT_SECONDS: '1',
    DELIVERY_RETRY_SCHEDULE: '1,1,1,1,1,1,1',
  };
  // The lease clock runs 2 minutes ahead, past any lease a killed deliverer left (at most max(60 s, 4 × timeout)).
  // After a killed `collect`, 11 minutes: past its tenant leases too (those of collection last 10 minutes).
  const ahead = fault === 'kill' ? 120_000 : fault === 'collectKill' ? 660_000 : undefined;
  const services = createServices(loadSettings(env), {
    env,
    logger: createLogger((_level, line) => void options.logLines.push(line)),
    ...(ahead !== undefined ? { tables: { clock: { now: () => new Date(Date.now() + ahead) } } } : {}),
  });
  await services.ready();
  const tenants = options.allocator.allocate(options.tenants, options.incidents);
  await TenantAllocator.register(services.tenants, tenants);
  const hook = stack.webhooks.addEndpoint();
  const la = stack.logAnalytics;
  const sub = await addSubscription(
    services.subscriptionDeps(),
    fault === 'la429'
      ? { logAnalytics: true, endpoint: la.endpoint, ruleId: la.ruleId, stream: la.stream, tenants }
      : { url: hook.url, secret: hook.secret, tenants },
  );
  let faulted = 0;
  await runCollection(services.runDeps(), { tenantIds: tenants, trigger: 'reliability' });
  for (let round = 0; round < options.changes; round++) {
    for (const t of tenants) {
      const incidents = stack.world.graphIncidents(t);
      stack.world.mutate(t, String(incidents[round % incidents.length]?.id));
    }
    if (fault === 'collectKill' && round === options.changes - 1)
      faulted = (await killCollector(options, env, tenants)) ? 1 : 0;
    else await runCollection(services.runDeps(), { tenantIds: tenants, trigger: 'reliability' });
  }

  const match = (r: { path: string }) => r.path === hook.path;
  const count = () => void faulted++;
  if (fault === 'http500')
    stack.webhooks.inject({ status: 500, times: options.faultTimes, match: (r) => match(r) && (count(), true) });
  if (fault === 'reset')
    stack.webhooks.inject({ reset: 'before', times: options.faultTimes, match: (r) => match(r) && (count(), true) });
  // Answered after the sender gave up (1 s): the receiver may still record it (then a later retry is a duplicate).
  if (fault === 'timeout')
    stack.webhooks.inject({ delayMs: 1_500, times: options.faultTimes, match: (r) => match(r) && (count(), true) });

  if (fault === 'la429')
    stack.logsIngestion.inject({
      match: (r) => r.path.includes(`/dataCollectionRules/${la.ruleId}/`) && (count(), true),
      times: options.faultTimes,
      status: 429,
      headers: { 'retry-after': '1' },
      body: {
        error: { code: 'TooManyRequests', message: 'The rate of requests to the data collection rule is too high.' },
      },
    });
  if (fault === 'kill') faulted = (await killDeliverer(options, env, hook.path, options.faultTimes)) ? 1 : 0;

  let passes = 0;
  let deadLettered = 0;
  for (; passes < (options.maxPasses ?? 40);) {
    passes++;
    const report = await deliverPass(services.deliverDeps());
    deadLettered += report.deadLettered;
    if (report.pending === 0 && report.retrying === 0) break;
    await sleep(1_100);
  }
  stack.webhooks.clearFaults();
  stack.logsIngestion.clearFaults();

  const createdAt = (await services.subscriptions.get(sub.id))?.createdAt ?? '';
  const owed = new Map<string, { incidentId: string; sequence: number }>();
  for (const t of tenants)
    for (const e of await services.events.read(t, 0, 100_000))
      if (Date.parse(e.time) >= Date.parse(createdAt))
        owed.set(`${e.tenantId}/${e.incidentId}/${e.lastUpdateTime}`, {
          incidentId: `${t}/${e.incidentId}`,
          sequence: e.sequence,
        });
  // Event ids in arrival order: webhook deliveries, or this run's tenants' rows at the Logs Ingestion rule.
  const ours = new Set(tenants.map((t) => t.toLowerCase()));
  const received =
    fault === 'la429'
      ? ingestedRows(stack, la)
          .filter((r) => ours.has(String(r.TenantId).toLowerCase()))
          .map((r) => r.id)
      : stack.webhooks.to(hook.path).map((d) => d.event.id);
  const letters = new Set((await services.deliveryState.state(sub.id)).deadLetters.map((d) => d.eventId));
  const seen = new Set<string>();
  const highest = new Map<string, number>();
  let outOfOrder = 0;
  for (const id of received) {
    if (seen.has(id)) continue;
    seen.add(id);
    const version = owed.get(id);
    if (!version) continue;
    if ((highest.get(version.incidentId) ?? 0) > version.sequence) outOfOrder++;
    highest.set(version.incidentId, Math.max(highest.get(version.incidentId) ?? 0, version.sequence));
  }
  let versionsWithoutEvent = 0;
  let eventsWithoutVersion = 0;
  for (const t of tenants) {
    const truth = await eventTruth(stack.env.AzureWebJobsStorage, t);
    versionsWithoutEvent += truth.versionsWithoutEvent;
    eventsWithoutVersion += truth.eventsWithoutVersion;
  }
  const lost = [...owed.keys()].filter((id) => !seen.has(id) && !letters.has(id)).length;
  await services.subscriptions.remove(sub.id);
  return {
    fault,
    events: owed.size,
    received: received.length,
    faulted,
    lost,
    outOfOrder,
    duplicates: received.length - seen.size,
    deadLettered,
    passes,
    versionsWithoutEvent,
    eventsWithoutVersion,
  };
}

/** The event ids of the rows the Logs Ingestion simulator accepted for the stack's rule, in arrival order. */
function ingestedRows(stack: LocalStack, la: LocalStack['logAnalytics']): (Record<string, unknown> & { id: string })[] {
  return stack.logsIngestion
    .rows(la.ruleId, la.stream)
    .map((r) => ({ ...r, id: `${String(r.TenantId)}/${String(r.IncidentId)}/${String(r.LastUpdateTime)}` }));
}
