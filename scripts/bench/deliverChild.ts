/**
 * The deliverer as its own process (the delivery workload), so its time, CPU and Table round trips are the
 * deliverer's alone: the product's delivery passes (`deliverPass` with the composition root's deps, as the
 * `deliverEvents` timer runs it, with a FullPassSchedule of its own: the first pass full, the next ones trusting the
 * tenants' delivery hints) until nothing is left to send, then one more pass with nothing to send (the idle pass of
 * an ordinary timer tick), then one full pass with nothing to send (the timer's every 15 minutes, and what
 * `incident-collector deliver` always makes). Settings come from the environment as in production;
 * the benchmark's knobs come as JSON in BENCH_CHILD (DeliverChildOptions). Prints one JSON line (DeliverChildReport)
 * on stdout; the protocol is collectorProcess.runChildProcess's.
 */
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { stderrLogger } from '../../shared/log.js';
import { deliverPass, FullPassSchedule, type DeliveryReport } from '../../shared/usecases/deliver.js';
import type { DeliverChildOptions, DeliverChildReport, DeliverStretch } from './childProtocol.js';
import { countTableRoundTrips, type TableRoundTrips } from './tableRoundTrips.js';

/** Run passes until nothing is owed or a pass sends nothing (at most `maxPasses`), counting what they cost. */
async function stretch(
  pass: () => Promise<DeliveryReport>,
  tables: TableRoundTrips,
  maxPasses: number,
): Promise<DeliverStretch> {
  const before = tables.total();
  const kindsBefore = tables.byKind();
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let passes = 0;
  let delivered = 0;
  let failed = 0;
  let deadLettered = 0;
  let pending: number;
  for (;;) {
    const report = await pass();
    passes++;
    delivered += report.delivered;
    failed += report.failed;
    deadLettered += report.deadLettered;
    pending = report.pending;
    if (report.blocked.length > 0)
      throw new Error(`Delivery is blocked: ${report.blocked.map((b) => `${b.subscriptionId}: ${b.code}`).join('; ')}`);
    if (pending === 0 || report.delivered === 0 || passes >= maxPasses) break;
  }
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    passes,
    delivered,
    failed,
    deadLettered,
    pending,
    tableRoundTrips: tables.total() - before,
    tableByKind: Object.fromEntries(
      Object.entries(tables.byKind())
        .map(([k, n]) => [k, n - (kindsBefore[k] ?? 0)])
        .filter(([, n]) => n !== 0),
    ),
  };
}

async function main(): Promise<void> {
  const options = JSON.parse(process.env.BENCH_CHILD ?? '{}') as DeliverChildOptions;
  const tables = countTableRoundTrips();
  const settings = loadSettings(process.env);
  const services = createServices(settings, {
    logger: stderrLogger('error'),
    env: process.env,
    tables: { additionalPolicies: tables.additionalPolicies },
  });
  // Table creation (ready) is start-up, not delivery: the stretches count from after it.
  await services.ready();
  const fullPasses = new FullPassSchedule();
  const pass = () => deliverPass({ ...services.deliverDeps(), fullPasses });
  const busy = await stretch(pass, tables, options.maxPasses ?? 20);
  const idle = await stretch(pass, tables, 1);
  // Without a schedule every pass is full.
  const idleFull = await stretch(() => deliverPass(services.deliverDeps()), tables, 1);
  const report: DeliverChildReport = {
    busy,
    idle,
    idleFull,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    timeoutSeconds: settings.deliveryTimeoutSeconds,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
