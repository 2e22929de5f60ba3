/**
 * The poison queue (`tenant-collect-poison`): a message the worker failed on MAX_DEQUEUE_COUNT times. Nothing may
 * fail silently, so the dead letter is written where operators look: on the tenant (its status is kept — the cause
 * is unknown, and a status change would hide the last real classification — but lastErrorCode becomes
 * DEAD_LETTER with the run and the delivery count) and in the run's `deadLetters` counter.
 */
import { NotFoundError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import type { Clock, Logger, RunStore, TenantStore } from '../ports.js';
import { alreadyCounted, finishRunIfComplete, parseCollectMessage, recordDeadLetterInRun } from './queueWorker.js';

export const DEAD_LETTER_CODE = ErrorCode.DEAD_LETTER;

export interface DeadLetterDeps {
  readonly tenants: TenantStore;
  readonly runs: RunStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface DeadLetterOutcome {
  readonly tenantId?: string;
  readonly runId?: string;
  readonly tenantRecorded: boolean;
  readonly runRecorded: boolean;
}

export async function recordDeadLetter(
  deps: DeadLetterDeps,
  body: unknown,
  dequeueCount: number,
): Promise<DeadLetterOutcome> {
  const parsed = parseCollectMessage(body);
  if (!parsed.ok) {
    deps.logger.error('queue.dead_letter_malformed', { problem: parsed.problem, dequeueCount, ...(parsed.run ?? {}) });
    const runRecorded = parsed.run
      ? (await recordDeadLetterInRun(deps, parsed.run.runId, parsed.run.runStartedAt)).recorded
      : false;
    return { ...(parsed.run ? { runId: parsed.run.runId } : {}), tenantRecorded: false, runRecorded };
  }
  const { tenantId, runId, runStartedAt, slot } = parsed.message;
  if (await alreadyCounted(deps, parsed.message)) {
    // A worker recorded this tenant's outcome and then failed (finishing the run, say): the tenant is not a dead
    // letter, and its row keeps the real outcome. The run may still need finishing.
    deps.logger.warn('queue.dead_letter_already_counted', { runId, tenantId, slot, dequeueCount });
    await finishRunIfComplete(deps, runId, runStartedAt);
    return { tenantId, runId, tenantRecorded: false, runRecorded: false };
  }
  deps.logger.error('queue.dead_letter', { runId, tenantId, errorCode: DEAD_LETTER_CODE, dequeueCount });
  const tenantRecorded = await markTenant(deps, tenantId, runId, dequeueCount);
  const runRecorded = (await recordDeadLetterInRun(deps, runId, runStartedAt, slot)).recorded;
  return { tenantId, runId, tenantRecorded, runRecorded };
}

async function markTenant(
  deps: DeadLetterDeps,
  tenantId: string,
  runId: string,
  dequeueCount: number,
): Promise<boolean> {
  try {
    await deps.tenants.update(tenantId, {
      lastErrorCode: DEAD_LETTER_CODE,
      lastError: `The collection message of run ${runId} was dead-lettered after ${dequeueCount} deliveries (tenant-collect-poison); see the worker's logs for that run. The next scheduled run collects the tenant again.`,
      lastRunAt: deps.clock.now().toISOString(),
    });
    return true;
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
    deps.logger.warn('queue.dead_letter_tenant_unknown', { runId, tenantId });
    return false;
  }
}
