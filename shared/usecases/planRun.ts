/**
 * The scheduled run's planning step (the timer function): write the run record and choose the tenants to enqueue —
 * every tenant the run would collect or re-probe now. It reads one table and writes one row, so it stays fast
 * for thousands of tenants; the work happens in the queue worker.
 */
import { MAX_RUN_SLOTS } from '../domain/runSlots.js';
import { runDecision } from '../domain/tenantState.js';
import type { Clock, Logger, RunStore, TenantStore, TokenProvider } from '../ports.js';
import { newRunId, newRunRecord, readCredentialRecord } from './runCollection.js';

export interface PlanDeps {
  readonly tenants: TenantStore;
  readonly runs: RunStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly reprobeHours: number;
  /** When given, the partner credential's kind, version and expiry are recorded on the run row (design §11). */
  readonly tokens?: Pick<TokenProvider, 'describeCredential'>;
}

/** What the worker receives: one message per tenant. */
export interface TenantCollectMessage {
  readonly runId: string;
  readonly runStartedAt: string;
  readonly tenantId: string;
  readonly since?: string;
  /** The tenant's position in the run, so the run counts it once however often the message is delivered. */
  readonly slot?: number;
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
  const credential = deps.tokens
    ? await readCredentialRecord({ tokens: deps.tokens, logger: deps.logger }, runId)
    : undefined;
  // Like a CLI run, tenantsPlanned counts every tenant considered and the ones not due are already counted as
  // skipped, so the run is complete when ok + failed + skipped + deadLetters reaches tenantsPlanned.
  await deps.runs.create(
    newRunRecord({
      runId,
      startedAt,
      trigger,
      tenantsPlanned: tenants.length,
      tenantsSkipped: tenants.length - due.length,
      credential,
    }),
  );
  deps.logger.info('run.planned', { runId, tenantCount: due.length, skipped: tenants.length - due.length, trigger });
  return {
    runId,
    startedAt,
    // Past MAX_RUN_SLOTS (over half a million tenants) a message goes without a slot and is counted per delivery.
    messages: due.map((t, i) => ({
      runId,
      runStartedAt: startedAt,
      tenantId: t.tenantId,
      ...(i < MAX_RUN_SLOTS ? { slot: i } : {}),
    })),
    skipped: tenants.length - due.length,
  };
}
