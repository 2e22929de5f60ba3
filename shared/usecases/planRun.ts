/**
 * The scheduled run's planning step (the timer function): write the run record and choose the tenants to enqueue —
 * every tenant the run would collect or re-probe now. It reads one table and writes one row, so it stays fast
 * for thousands of tenants; the work happens in the queue worker.
 */
import { runDecision } from '../domain/tenantState.js';
import type { Clock, Logger, RunStore, TenantStore } from '../ports.js';
import { newRunId } from './runCollection.js';

export interface PlanDeps {
  readonly tenants: TenantStore;
  readonly runs: RunStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reprobeHours: number;
}

/** What the worker receives: one message per tenant. */
export interface TenantCollectMessage {
  readonly runId: string;
  readonly runStartedAt: string;
  readonly tenantId: string;
  readonly since?: string;
}

export interface RunPlan {
  readonly runId: string;
  readonly startedAt: string;
  readonly messages: TenantCollectMessage[];
  readonly skipped: number;
}

export async function planRun(deps: PlanDeps, trigger: string): Promise<RunPlan> {
  const now = deps.clock.now();
  const startedAt = now.toISOString();
  const runId = newRunId(now);
  const tenants = await deps.tenants.list();
  const due = tenants.filter((t) => runDecision(t, now, deps.reprobeHours) !== 'skip');
  // Like a CLI run, tenantsPlanned counts every tenant considered and the ones not due are already counted as
  // skipped, so the run is complete when ok + failed + skipped + deadLetters reaches tenantsPlanned.
  await deps.runs.create({
    runId, startedAt, trigger, tenantsPlanned: tenants.length, tenantsOk: 0, tenantsFailed: 0,
    tenantsSkipped: tenants.length - due.length, incidentsFetched: 0, incidentsChanged: 0, pages: 0, deadLetters: 0,
  });
  deps.logger.info('run.planned', { runId, tenantCount: due.length, skipped: tenants.length - due.length, trigger });
  return {
    runId,
    startedAt,
    messages: due.map((t) => ({ runId, runStartedAt: startedAt, tenantId: t.tenantId })),
    skipped: tenants.length - due.length,
  };
}
