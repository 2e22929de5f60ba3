/**
 * The fault matrix (issue 5 §1): for each fault × source × point × mode, a fresh victim tenant and bystanders are
 * collected with the fault armed (run 1), then again with it cleared (run 2, after a few incidents changed), and
 * the store is compared with the simulator's truth. Every figure must be 0 and every bystander must finish `ok`.
 */
import type { SourceKind, TenantRunResult } from '../../shared/ports.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { clearFaults, FAULTS, type FaultCase } from './faultCatalogue.js';
import { addFigures, compareWithTruth, ZERO_TRUTH, type TruthFigures } from './storeTruth.js';
import { TenantAllocator } from './tenantAllocator.js';
import { CheckpointRecorder } from './checkpointRecorder.js';

export type FaultMode = 'persistent' | 'burst';

export interface MatrixOptions {
  readonly stack: LocalStack;
  readonly allocator: TenantAllocator;
  readonly sources: readonly SourceKind[];
  /** Request numbers (of the faulted kind) where the fault starts; token/vault faults use the first only unless `allPointsFor` lists them. */
  readonly points: readonly number[];
  readonly modes: readonly FaultMode[];
  readonly incidentsPerTenant: number;
  readonly bystanders: number;
  readonly faults?: readonly FaultCase[];
  /** Every log line of every run (for the secret scan). */
  readonly logLines: string[];
  /** Every error message a run reported (for the secret scan). */
  readonly messages: string[];
  readonly progress?: (line: string) => void;
}

export interface MatrixRow extends TruthFigures {
  readonly fault: string;
  readonly source: SourceKind;
  readonly point: number;
  readonly mode: FaultMode;
  /** Requests the fault actually hit (0: the point was past the run's last request). */
  readonly hits: number;
  readonly checkpointRegressions: number;
  /** Tenants not hit by the fault that did not finish `ok` in the faulted run. */
  readonly bystandersNotOk: number;
  /** Tenants not `ok` in the run after the fault was cleared. */
  readonly notRecovered: number;
  /** The victim's outcome in the faulted run: `ok` or the error code. */
  readonly victimOutcome: string;
}

function outcome(r: TenantRunResult | undefined): string {
  if (!r) return 'missing';
  return r.status === 'ok' ? 'ok' : `${r.status}:${r.error?.code ?? '-'}`;
}

function envFor(stack: LocalStack, source: SourceKind): Record<string, string> {
  return { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0', TENANT_CONCURRENCY: '4' };
}

export async function runFaultCase(
  options: MatrixOptions,
  fault: FaultCase,
  source: SourceKind,
  point: number,
  mode: FaultMode,
): Promise<MatrixRow> {
  const { stack } = options;
  const env = envFor(stack, source);
  const tenants = options.allocator.allocate(1 + options.bystanders, options.incidentsPerTenant);
  const victim = tenants[0] as string;
  const recorder = new CheckpointRecorder();
  let hits = 0;

  const first = await collectorProcess({ env, logLines: options.logLines, recorder });
  await TenantAllocator.register(first.services.tenants, tenants);
  fault.arm({ stack, victim, source, point, persistent: mode === 'persistent', onHit: () => void hits++ });
  let run1;
  try {
    run1 = await runCollection(first.runDeps, { trigger: 'reliability', tenantIds: tenants });
  } finally {
    clearFaults(stack);
  }
  await recorder.observeStore(first.services.tenants, tenants);

  // Time moves on: two of the victim's incidents change before the next run.
  for (const incident of stack.world.graphIncidents(victim).slice(0, 2))
    stack.world.mutate(victim, String(incident.id));

  const second = await collectorProcess({ env, logLines: options.logLines, recorder });
  const run2 = await runCollection(second.runDeps, { trigger: 'reliability', tenantIds: tenants });
  await recorder.observeStore(second.services.tenants, tenants);

  let figures: TruthFigures = { ...ZERO_TRUTH };
  for (const t of tenants)
    figures = addFigures(
      figures,
      await compareWithTruth(second.services.snapshots, stack.world, source, t, stack.env.AzureWebJobsStorage),
    );
  for (const r of [...run1.tenants, ...run2.tenants]) if (r.error) options.messages.push(r.error.message);

  const byId1 = new Map(run1.tenants.map((r) => [r.tenantId, r]));
  const bystanders = fault.hitsEveryone ? [] : tenants.slice(1);
  return {
    fault: fault.name,
    source,
    point,
    mode,
    hits,
    ...figures,
    checkpointRegressions: recorder.regressions,
    bystandersNotOk: bystanders.filter((t) => byId1.get(t)?.status !== 'ok').length,
    notRecovered: run2.tenants.filter((r) => r.status !== 'ok').length,
    victimOutcome: outcome(byId1.get(victim)),
  };
}

/** The points a fault is tried at: API faults at every page point; token and Key Vault faults at the first two. */
function pointsFor(fault: FaultCase, points: readonly number[]): readonly number[] {
  return fault.target === 'api' ? points : points.slice(0, Math.min(points.length, fault.target === 'vault' ? 1 : 2));
}

export async function runFaultMatrix(options: MatrixOptions): Promise<MatrixRow[]> {
  const rows: MatrixRow[] = [];
  for (const fault of options.faults ?? FAULTS) {
    for (const source of options.sources.filter((s) => fault.sources.includes(s))) {
      for (const point of pointsFor(fault, options.points)) {
        for (const mode of options.modes) {
          const row = await runFaultCase(options, fault, source, point, mode);
          options.progress?.(
            `${row.fault} · ${row.source} · point ${row.point} · ${row.mode}: victim ${row.victimOutcome}, hits ${row.hits}`,
          );
          rows.push(row);
        }
      }
    }
  }
  return rows;
}
