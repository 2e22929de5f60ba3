/**
 * Delivery fault family (design §9): a webhook receiver that answers 500 for a while, times out, or resets the
 * connection, while events of several tenants and several versions per incident wait. Passes run (on the real
 * adapters, with a 1-second retry schedule and timeout) until nothing is owed, then the receiver's record is compared
 * with the event log: events lost (neither received nor dead-lettered), versions received out of order per incident
 * (a first receipt of a version older than one already received), duplicates (the same event id received again —
 * allowed, at least once).
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
import { TenantAllocator } from './tenantAllocator.js';

/**
 * `kill`: the real CLI (`deliver`, built dist/) runs as a child and is SIGKILLed while its `faultTimes`-th POST is at
 * the receiver (which then records it: delivered, but the dead process never saved its cursor); a new process,
 * its lease clock past the dead one's lease, delivers the rest.
 */
export type DeliveryFault = 'http500' | 'timeout' | 'reset' | 'kill';

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

export async function deliveryFault(options: DeliveryFaultOptions): Promise<DeliveryFaultRow> {
  const { stack, fault } = options;
  const env = {
    ...stack.env,
    SYNC_LAG_SECONDS: '0',
    DELIVERY_TIMEOUT_SECONDS: '1',
    DELIVERY_RETRY_SCHEDULE: '1,1,1,1,1,1,1',
  };
  // The lease clock runs 2 minutes ahead, past any lease a killed deliverer left (at most max(60 s, 4 × timeout)).
  const services = createServices(loadSettings(env), {
    env,
    logger: createLogger((_level, line) => void options.logLines.push(line)),
    ...(fault === 'kill' ? { tables: { clock: { now: () => new Date(Date.now() + 120_000) } } } : {}),
  });
  await services.ready();
  const tenants = options.allocator.allocate(options.tenants, options.incidents);
  await TenantAllocator.register(services.tenants, tenants);
  const hook = stack.webhooks.addEndpoint();
  const sub = await addSubscription(services.subscriptionDeps(), { url: hook.url, secret: hook.secret, tenants });
  await runCollection(services.runDeps(), { tenantIds: tenants, trigger: 'reliability' });
  for (let round = 0; round < options.changes; round++) {
    for (const t of tenants) {
      const incidents = stack.world.graphIncidents(t);
      stack.world.mutate(t, String(incidents[round % incidents.length]?.id));
    }
    await runCollection(services.runDeps(), { tenantIds: tenants, trigger: 'reliability' });
  }

  let faulted = 0;
  const match = (r: { path: string }) => r.path === hook.path;
  const count = () => void faulted++;
  if (fault === 'http500')
    stack.webhooks.inject({ status: 500, times: options.faultTimes, match: (r) => match(r) && (count(), true) });
  if (fault === 'reset')
    stack.webhooks.inject({ reset: 'before', times: options.faultTimes, match: (r) => match(r) && (count(), true) });
  // Answered after the sender gave up (1 s): the receiver may still record it (then a later retry is a duplicate).
  if (fault === 'timeout')
    stack.webhooks.inject({ delayMs: 1_500, times: options.faultTimes, match: (r) => match(r) && (count(), true) });

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

  const createdAt = (await services.subscriptions.get(sub.id))?.createdAt ?? '';
  const owed = new Map<string, { incidentId: string; sequence: number }>();
  for (const t of tenants)
    for (const e of await services.events.read(t, 0, 100_000))
      if (Date.parse(e.time) >= Date.parse(createdAt))
        owed.set(`${e.tenantId}/${e.incidentId}/${e.lastUpdateTime}`, {
          incidentId: `${t}/${e.incidentId}`,
          sequence: e.sequence,
        });
  const received = stack.webhooks.to(hook.path);
  const letters = new Set((await services.deliveryState.state(sub.id)).deadLetters.map((d) => d.eventId));
  const seen = new Set<string>();
  const highest = new Map<string, number>();
  let outOfOrder = 0;
  for (const d of received) {
    if (seen.has(d.event.id)) continue;
    seen.add(d.event.id);
    const key = `${d.event.data.tenantId}/${d.event.data.incidentId}`;
    if ((highest.get(key) ?? 0) > d.event.data.sequence) outOfOrder++;
    highest.set(key, Math.max(highest.get(key) ?? 0, d.event.data.sequence));
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
  };
}
