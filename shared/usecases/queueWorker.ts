/**
 * The queue-driven run (Azure Functions): the timer plans and enqueues one message per due tenant, and each
 * message is collected by `processCollectMessage`. A message either completes (its tenant's result is recorded in
 * the run) or is retried by the platform — only for transient failures, and never past the last dequeue, so the
 * poison queue is left for failures of the worker itself (storage down, a bug), which deadLetter.ts records.
 * Queue delivery is at least once: a message's slot makes the run count its tenant once (domain/runSlots.ts), the
 * outcome is recorded while the tenant's lease is still held, a redelivery whose tenant is already counted
 * completes without collecting, and a copy that finds its own run's collection in flight is retried, never dropped.
 */
import { z } from 'zod';
import { CollectorError, NotFoundError } from '../domain/errors.js';
import { isOwnedByRun, MAX_RUN_SLOTS, runLeaseOwner } from '../domain/runSlots.js';
import { isTimestamp } from '../domain/time.js';
import type { Clock, Logger, RunStore, TenantRunResult } from '../ports.js';
import { collectTenant, LEASE_HELD, LEASE_LOST, type CollectDeps } from './collectTenant.js';
import { planRun, type PlanDeps, type RunPlan, type TenantCollectMessage } from './planRun.js';
import { isTenantId } from '../domain/tenantId.js';
import { ErrorCode } from '../domain/errorCodes.js';
import { isPartnerCredentialCode } from '../domain/partnerCredential.js';
import { recordCredentialRefusal } from './runCollection.js';

/** Keep equal to host.json `extensions.queues.maxDequeueCount` (a test checks it). */
export const MAX_DEQUEUE_COUNT = 5;

const timestamp = z.string().max(64).refine(isTimestamp, 'an ISO-8601 instant with a time zone');

/** A run ID as newRunId makes it (also safe as a Table RowKey). */
const runId = z.string().regex(/^[0-9A-Za-z_-]{1,100}$/);

export const tenantCollectMessageSchema = z.object({
  runId,
  runStartedAt: timestamp,
  tenantId: z
    .string()
    .refine(isTenantId, 'a tenant ID (GUID)')
    .transform((t) => t.toLowerCase()),
  since: timestamp.optional(),
  slot: z
    .number()
    .int()
    .min(0)
    .max(MAX_RUN_SLOTS - 1)
    .optional(),
});

/** The run a message belongs to, when at least that part of it can be trusted (to count a dead letter). */
const runRefSchema = z.object({ runId, runStartedAt: timestamp });

export type ParsedMessage =
  | { readonly ok: true; readonly message: TenantCollectMessage }
  | { readonly ok: false; readonly problem: string; readonly run?: { runId: string; runStartedAt: string } };

/** The host hands a JSON queue message over already parsed; a plain string body is parsed here. */
function decode(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

export function parseCollectMessage(raw: unknown): ParsedMessage {
  const value = decode(raw);
  const parsed = tenantCollectMessageSchema.safeParse(value);
  if (parsed.success) {
    const { since, slot, ...rest } = parsed.data;
    return {
      ok: true,
      message: { ...rest, ...(since !== undefined ? { since } : {}), ...(slot !== undefined ? { slot } : {}) },
    };
  }
  const problem = parsed.error.issues
    .map((i) => `${i.path.join('.') || 'message'}: ${i.message}`)
    .join('; ')
    .slice(0, 500);
  const run = runRefSchema.safeParse(value);
  return { ok: false, problem, ...(run.success ? { run: run.data } : {}) };
}

export interface WorkerDeps extends CollectDeps {
  readonly runs: RunStore;
}

export interface DeliveredMessage {
  /** The queue message as the trigger delivered it. */
  readonly body: unknown;
  /** 1 on the first delivery. */
  readonly dequeueCount: number;
  /** Lease owner: the invocation ID. */
  readonly owner: string;
}

export type WorkerOutcome =
  | { readonly action: 'completed'; readonly result: TenantRunResult; readonly runFinished: boolean }
  /** A redelivery whose tenant is already counted in the run: completed without collecting. */
  | { readonly action: 'duplicate'; readonly runFinished: boolean }
  | { readonly action: 'discarded'; readonly reason: string };

/**
 * Thrown to make the platform retry the message (after the queue's visibility timeout). Carries the failure code
 * for the log; the message never contains a secret (collector errors never do).
 */
export class RetryableCollectionError extends CollectorError {
  constructor(tenantId: string, error: { code: string; message: string }, dequeueCount: number) {
    super(
      `Tenant ${tenantId}: transient failure ${error.code} on delivery ${dequeueCount}; the message will be retried. ${error.message}`.slice(
        0,
        1024,
      ),
      {
        code: error.code,
        kind: 'transient',
      },
    );
    this.name = 'RetryableCollectionError';
  }
}

/** Decide what a tenant result means for its message: retry (throw) or record. */
function shouldRetry(result: TenantRunResult, dequeueCount: number): boolean {
  if (result.status !== 'failed') return false;
  if (result.error?.kind !== 'transient') return false;
  return dequeueCount < MAX_DEQUEUE_COUNT;
}

/** Who holds the tenant's lease, as a delivery sees it: nobody, a worker of the message's own run, another run. */
export type LeaseHolder = 'none' | 'this_run' | 'other_run';

/**
 * What a delivery knows at one of its decision points (the facts only; reading them is the caller's job):
 * - `delivered`: before collecting. `settled` is whether the message's slot is already counted in its run
 *   (undefined when it was not read: a first delivery, or a message without a slot).
 * - `lease_freed`: the collection found the lease held, and then nobody held it. `settled` as above, read now.
 * - `collected`: a collection ended. `busy` when it found (or lost) the lease to another worker; `holder` is who
 *   holds the lease now (read only when busy).
 */
export type DeliveryFacts =
  | { readonly phase: 'delivered'; readonly settled: boolean | undefined }
  | { readonly phase: 'lease_freed'; readonly settled: boolean }
  | {
      readonly phase: 'collected';
      readonly result: TenantRunResult;
      readonly busy: boolean;
      readonly holder: LeaseHolder;
      readonly hasSlot: boolean;
      readonly dequeueCount: number;
    };

/**
 * The next step of a delivery:
 * - `collect`: collect the tenant (its outcome is recorded in the run under the lease, by `settle`);
 * - `duplicate`: the tenant is already counted in the run: complete the message without collecting;
 * - `complete`: the collection's outcome is recorded: complete the message;
 * - `redeliver`: throw so the platform delivers the message again later;
 * - `count_skipped`: count the tenant skipped in the run (a no-op if its slot is settled), then complete;
 * - `leave_to_holder`: a message without a slot whose own run holds the lease: complete without counting.
 */
export type DeliveryAction = 'collect' | 'duplicate' | 'complete' | 'redeliver' | 'count_skipped' | 'leave_to_holder';

/** The queue worker's rules as one pure function (exactly-once counting by slot, leases, retries). */
export function decideDelivery(facts: DeliveryFacts): DeliveryAction {
  if (facts.phase !== 'collected') return facts.settled === true ? 'duplicate' : 'collect';
  const { result, busy, holder, hasSlot, dequeueCount } = facts;
  // A transient failure is retried, except on the last delivery (then it is recorded, not poisoned).
  if (shouldRetry(result, dequeueCount)) return 'redeliver';
  if (!busy) return 'complete';
  // Another run is collecting the tenant (overlapping runs): this run counts it skipped.
  if (holder === 'other_run') return 'count_skipped';
  // A message from before slots: nothing would stop a second count, so leave the outcome to the holder.
  if (!hasSlot && holder === 'this_run') return 'leave_to_holder';
  // A copy of this message holds the lease and records the outcome before letting go. Completing here would lose
  // the tenant if that holder died, so let the platform redeliver: the redelivery completes at once if the tenant
  // is counted by then, and collects it otherwise.
  if (dequeueCount < MAX_DEQUEUE_COUNT) return 'redeliver';
  // The last delivery: count the tenant skipped (a no-op if its outcome is counted already), so the run finishes.
  return 'count_skipped';
}

/** Collect the tenant of one queue message. Throws RetryableCollectionError when the platform should retry. */
export async function processCollectMessage(deps: WorkerDeps, delivered: DeliveredMessage): Promise<WorkerOutcome> {
  const parsed = parseCollectMessage(delivered.body);
  if (!parsed.ok) {
    // A malformed message never gets better by retrying: log it, count it as a dead letter, complete it.
    deps.logger.error('queue.message_malformed', {
      problem: parsed.problem,
      dequeueCount: delivered.dequeueCount,
      ...(parsed.run ?? {}),
    });
    if (parsed.run) await recordDeadLetterInRun(deps, parsed.run.runId, parsed.run.runStartedAt);
    return { action: 'discarded', reason: parsed.problem };
  }
  const message = parsed.message;
  const where = { runId: message.runId, tenantId: message.tenantId, dequeueCount: delivered.dequeueCount };
  const duplicate = async (): Promise<WorkerOutcome> => {
    deps.logger.info('queue.duplicate_message', { ...where, slot: message.slot });
    return { action: 'duplicate', runFinished: await finishRunIfComplete(deps, message.runId, message.runStartedAt) };
  };
  // A redelivery may follow a worker that recorded the tenant and then failed (finishing the run, deleting the
  // message): collecting again would be wasted calls. First deliveries skip this read.
  const settledBefore = delivered.dequeueCount > 1 ? await alreadyCounted(deps, message) : undefined;
  if (decideDelivery({ phase: 'delivered', settled: settledBefore }) === 'duplicate') return duplicate();

  // Design §7 on the queue path: once a worker of this run met a refused partner credential (after the token
  // provider's one re-read), the other tenants are recorded credential_error without calling Entra.
  const refusal = await credentialFailureOf(deps, message);
  if (refusal !== undefined) {
    const result = await recordCredentialRefusal(deps, message.tenantId, message.runId, {
      code: refusal,
      message: `The partner credential was refused (${refusal}) earlier in this run; Entra was not called again.`,
    });
    deps.logger.warn('queue.credential_refused_in_run', { ...where, errorCode: refusal });
    return { action: 'completed', result, runFinished: await recordTenantInRun(deps, message, result) };
  }

  let runFinished = false;
  const collect = (): Promise<TenantRunResult> =>
    collectTenant(deps, {
      tenantId: message.tenantId,
      runId: message.runId,
      owner: runLeaseOwner(message.runId, delivered.owner),
      ...(message.since !== undefined ? { since: message.since } : {}),
      // Recorded while the lease is held: a copy of this message that finds the lease free knows the outcome is in.
      settle: async (outcome) => {
        if (!shouldRetry(outcome, delivered.dequeueCount))
          runFinished = await recordTenantInRun(deps, message, outcome);
      },
    });
  let result = await collect();
  let holder: LeaseHolder = 'none';
  if (isBusy(result)) {
    holder = await leaseHolder(deps, message);
    if (holder === 'none') {
      // Freed in between. A holder of this run recorded its outcome before letting go; otherwise collect now.
      const settled = await alreadyCounted(deps, message);
      if (decideDelivery({ phase: 'lease_freed', settled }) === 'duplicate') return duplicate();
      result = await collect();
      if (isBusy(result)) holder = await leaseHolder(deps, message);
    }
  }
  if (result.error !== undefined && isPartnerCredentialCode(result.error.code))
    await markCredentialFailure(deps, message, result.error.code);
  const action = decideDelivery({
    phase: 'collected',
    result,
    busy: isBusy(result),
    holder,
    hasSlot: message.slot !== undefined,
    dequeueCount: delivered.dequeueCount,
  });
  switch (action) {
    case 'redeliver':
      if (isBusy(result)) deps.logger.info('queue.tenant_busy_in_run', where);
      // A failure: collectTenant already counted it on the tenant once for the run (retries of a run count once).
      throw new RetryableCollectionError(
        message.tenantId,
        result.error as NonNullable<TenantRunResult['error']>,
        delivered.dequeueCount,
      );
    case 'leave_to_holder':
      deps.logger.info('queue.duplicate_in_flight', where);
      return { action: 'duplicate', runFinished: false };
    case 'count_skipped':
      if (holder === 'other_run') deps.logger.info('queue.tenant_busy', where);
      else deps.logger.warn('queue.tenant_busy_last_delivery', where);
      return { action: 'completed', result, runFinished: await recordTenantInRun(deps, message, result) };
    default:
      // 'complete' (a collection's last step is never 'collect' or 'duplicate'): settle recorded the outcome.
      return { action: 'completed', result, runFinished };
  }
}

/** The refused-credential code noted on the message's run, if any (undefined too when the run row is gone). */
async function credentialFailureOf(deps: WorkerDeps, message: TenantCollectMessage): Promise<string | undefined> {
  return (await deps.runs.get(message.runId, message.runStartedAt))?.credentialFailure;
}

/** Note the refusal on the run for its later workers; a run row that is gone only loses the shortcut. */
async function markCredentialFailure(deps: WorkerDeps, message: TenantCollectMessage, code: string): Promise<void> {
  try {
    await deps.runs.markCredentialFailure(message.runId, message.runStartedAt, code);
    deps.logger.warn('queue.credential_refused', { runId: message.runId, tenantId: message.tenantId, errorCode: code });
  } catch (error) {
    if (!isRunNotFound(error)) throw error;
    deps.logger.warn('queue.run_not_found', { runId: message.runId, tenantId: message.tenantId });
  }
}

/** Who holds the message's tenant lease now, relative to the message's run. */
async function leaseHolder(deps: WorkerDeps, message: TenantCollectMessage): Promise<LeaseHolder> {
  const owner = await deps.leases.holder(message.tenantId);
  if (owner === undefined) return 'none';
  return isOwnedByRun(owner, message.runId) ? 'this_run' : 'other_run';
}

/** Another worker has the tenant's lease: none was taken, or it was lost mid-collection. */
function isBusy(result: TenantRunResult): boolean {
  return result.error?.code === LEASE_HELD || result.error?.code === LEASE_LOST;
}

/** Whether the message's tenant is already counted in its run (false without a slot, or when the run is gone). */
export async function alreadyCounted(deps: { runs: RunStore }, message: TenantCollectMessage): Promise<boolean> {
  if (message.slot === undefined) return false;
  try {
    return await deps.runs.isSettled(message.runId, message.runStartedAt, message.slot);
  } catch (error) {
    if (isRunNotFound(error)) return false;
    throw error;
  }
}

function isRunNotFound(error: unknown): boolean {
  return error instanceof NotFoundError && error.code === ErrorCode.TABLE_RUN_NOT_FOUND;
}

/** Add the tenant's result to its run; a message whose run row is gone (deleted by hand) is still completed. */
async function recordTenantInRun(
  deps: WorkerDeps,
  message: TenantCollectMessage,
  result: TenantRunResult,
): Promise<boolean> {
  try {
    const counted = await deps.runs.recordTenant(message.runId, message.runStartedAt, result, message.slot);
    if (!counted)
      deps.logger.info('queue.duplicate_result', {
        runId: message.runId,
        tenantId: message.tenantId,
        slot: message.slot,
        status: result.status,
      });
  } catch (error) {
    if (!isRunNotFound(error)) throw error;
    deps.logger.warn('queue.run_not_found', { runId: message.runId, tenantId: message.tenantId });
    return false;
  }
  return finishRunIfComplete(deps, message.runId, message.runStartedAt);
}

/**
 * Count a dead letter in its run, then finish the run if that was its last outstanding tenant. `recorded` is false
 * when the run is gone, and when the message's slot was already counted (its tenant has an outcome in the run).
 */
export async function recordDeadLetterInRun(
  deps: { runs: RunStore; clock: Clock; logger: Logger },
  runId: string,
  runStartedAt: string,
  slot?: number,
): Promise<{ recorded: boolean; runFinished: boolean }> {
  let recorded: boolean;
  try {
    recorded = await deps.runs.recordDeadLetter(runId, runStartedAt, slot);
  } catch (error) {
    if (!isRunNotFound(error)) throw error;
    deps.logger.warn('queue.run_not_found', { runId });
    return { recorded: false, runFinished: false };
  }
  return { recorded, runFinished: await finishRunIfComplete(deps, runId, runStartedAt) };
}

/**
 * Every tenant of the run has an outcome (ok, failed, skipped — including those the plan skipped — or dead letter):
 * stamp `finishedAt`. Two workers may both see the last count; finishing twice only rewrites the time.
 */
export async function finishRunIfComplete(
  deps: { runs: RunStore; clock: Clock; logger: Logger },
  runId: string,
  runStartedAt: string,
): Promise<boolean> {
  const run = await deps.runs.get(runId, runStartedAt);
  if (!run || run.finishedAt) return false;
  const settled = run.tenantsOk + run.tenantsFailed + run.tenantsSkipped + run.deadLetters;
  if (settled < run.tenantsPlanned) return false;
  const finishedAt = deps.clock.now().toISOString();
  await deps.runs.finish(runId, runStartedAt, finishedAt);
  deps.logger.info('run.finished', {
    runId,
    tenantsOk: run.tenantsOk,
    tenantsFailed: run.tenantsFailed,
    tenantsSkipped: run.tenantsSkipped,
    deadLetters: run.deadLetters,
    durationMs: Date.parse(finishedAt) - Date.parse(run.startedAt),
  });
  return true;
}

/** The timer's work: plan the run (one table scan, one run row) and finish it at once when nothing is due. */
export async function planQueuedRun(deps: PlanDeps, trigger: string): Promise<RunPlan> {
  const plan = await planRun(deps, trigger);
  if (plan.messages.length === 0) await finishRunIfComplete(deps, plan.runId, plan.startedAt);
  return plan;
}
