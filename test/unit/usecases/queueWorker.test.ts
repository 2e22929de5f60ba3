/**
 * The queue worker (design §6 on queues): the pure delivery rules, table-driven, then processCollectMessage end to
 * end on in-memory fakes (exactly-once counting by slot, leases of this run and of others, retries).
 */
import { describe, expect, it } from '@jest/globals';
import { CollectorError, type FailureKind } from '../../../shared/domain/errors.js';
import { runLeaseOwner } from '../../../shared/domain/runSlots.js';
import type { LeaseStore, RunRecord, TenantRunResult } from '../../../shared/ports.js';
import { LEASE_HELD, LEASE_MS } from '../../../shared/usecases/collectTenant.js';
import {
  decideDelivery,
  MAX_DEQUEUE_COUNT,
  processCollectMessage,
  RetryableCollectionError,
  type DeliveryAction,
  type DeliveryFacts,
  type LeaseHolder,
} from '../../../shared/usecases/queueWorker.js';
import { fakeWorld } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-00000000000b';
const RUN = '20261124T120000Z-abcd1234';
const STARTED = '2026-11-24T12:00:00.000Z';

function outcome(status: TenantRunResult['status'], kind?: FailureKind, code = 'X'): TenantRunResult {
  return {
    tenantId: T,
    status,
    incidentsFetched: 0,
    incidentsChanged: 0,
    pages: 0,
    ...(kind ? { error: { code, message: code, kind } } : {}),
  };
}
const ok = outcome('ok');
const transientFailure = outcome('failed', 'transient', 'HTTP_503');
const permanentFailure = outcome('failed', 'consent_revoked', 'AADSTS65001');
const held = outcome('skipped', 'transient', LEASE_HELD);
const skippedByStatus = outcome('skipped');
const LAST = MAX_DEQUEUE_COUNT;

describe('decideDelivery: before collecting', () => {
  const rows: [string, DeliveryAction, DeliveryFacts][] = [
    ['first delivery (slot not read)', 'collect', { phase: 'delivered', settled: undefined }],
    ['redelivery, slot not counted yet', 'collect', { phase: 'delivered', settled: false }],
    ['redelivery, slot already counted', 'duplicate', { phase: 'delivered', settled: true }],
    ['lease freed, slot counted by the holder', 'duplicate', { phase: 'lease_freed', settled: true }],
    ['lease freed, slot not counted (holder died)', 'collect', { phase: 'lease_freed', settled: false }],
  ];
  it.each(rows)('%s → %s', (_name, expected, facts) => {
    expect(decideDelivery(facts)).toBe(expected);
  });
});

describe('decideDelivery: after collecting', () => {
  const collected = (
    result: TenantRunResult,
    holder: LeaseHolder,
    hasSlot: boolean,
    dequeueCount: number,
  ): DeliveryFacts => ({
    phase: 'collected',
    result,
    busy: result.error?.code === LEASE_HELD,
    holder,
    hasSlot,
    dequeueCount,
  });
  const rows: [string, DeliveryAction, DeliveryFacts][] = [
    ['ok', 'complete', collected(ok, 'none', true, 1)],
    ['skipped by status', 'complete', collected(skippedByStatus, 'none', true, 1)],
    ['permanent failure', 'complete', collected(permanentFailure, 'none', true, 1)],
    ['transient failure, delivery 1', 'redeliver', collected(transientFailure, 'none', true, 1)],
    ['transient failure, delivery max-1', 'redeliver', collected(transientFailure, 'none', true, LAST - 1)],
    ['transient failure, last delivery: recorded', 'complete', collected(transientFailure, 'none', true, LAST)],
    ['busy, another run holds the lease', 'count_skipped', collected(held, 'other_run', true, 1)],
    ['busy, another run holds it, no slot', 'count_skipped', collected(held, 'other_run', false, 1)],
    ['busy, this run holds it, no slot', 'leave_to_holder', collected(held, 'this_run', false, 1)],
    ['busy, this run holds it, slot', 'redeliver', collected(held, 'this_run', true, 1)],
    ['busy, this run holds it, slot, last delivery', 'count_skipped', collected(held, 'this_run', true, LAST)],
    ['busy, holder gone again, slot', 'redeliver', collected(held, 'none', true, 2)],
    ['busy, holder gone again, no slot', 'redeliver', collected(held, 'none', false, 2)],
    ['busy, holder gone again, last delivery', 'count_skipped', collected(held, 'none', true, LAST)],
  ];
  it.each(rows)('%s → %s', (_name, expected, facts) => {
    expect(decideDelivery(facts)).toBe(expected);
  });
});

function run(tenantsPlanned: number): RunRecord {
  return {
    runId: RUN,
    startedAt: STARTED,
    trigger: 'schedule',
    tenantsPlanned,
    tenantsOk: 0,
    tenantsFailed: 0,
    tenantsSkipped: 0,
    incidentsFetched: 0,
    incidentsChanged: 0,
    pages: 0,
    deadLetters: 0,
  };
}

/** A world with tenant T active, one page to collect, and a run of `planned` tenants. */
async function world(planned = 1) {
  const w = fakeWorld({
    source: { scripts: { [T]: { pages: [{ incidents: [], checkpoint: '2026-11-24T11:00:00Z' }] } } },
  });
  w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consentedAt: '2026-01-01T00:00:00Z' });
  await w.runs.create(run(planned));
  return w;
}

const body = (slot?: number) => ({
  runId: RUN,
  runStartedAt: STARTED,
  tenantId: T,
  ...(slot !== undefined ? { slot } : {}),
});

describe('processCollectMessage', () => {
  it('collects, counts the tenant in its run once, and finishes the run when it was the last tenant', async () => {
    const w = await world(1);

    const first = await processCollectMessage(w, { body: body(0), dequeueCount: 1, owner: 'inv-1' });

    expect(first).toMatchObject({ action: 'completed', result: { status: 'ok' }, runFinished: true });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 1, finishedAt: STARTED });
  });

  it('a redelivery of a counted slot completes as a duplicate without collecting', async () => {
    const w = await world(2);
    await processCollectMessage(w, { body: body(0), dequeueCount: 1, owner: 'inv-1' });
    const tokenCalls = w.tokens.calls.length;

    const again = await processCollectMessage(w, { body: body(0), dequeueCount: 2, owner: 'inv-2' });

    expect(again).toEqual({ action: 'duplicate', runFinished: false });
    expect(w.tokens.calls).toHaveLength(tokenCalls);
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 1 });
  });

  it('a transient failure is retried (not counted) until the last delivery, which counts it failed', async () => {
    const w = await world(1);
    w.tokens.fails(T, new CollectorError('Service unavailable.', { code: 'HTTP_503', kind: 'transient' }));

    for (let n = 1; n < MAX_DEQUEUE_COUNT; n++) {
      await expect(
        processCollectMessage(w, { body: body(0), dequeueCount: n, owner: `inv-${n}` }),
      ).rejects.toBeInstanceOf(RetryableCollectionError);
      expect(await w.runs.isSettled(RUN, STARTED, 0)).toBe(false);
    }
    const last = await processCollectMessage(w, { body: body(0), dequeueCount: MAX_DEQUEUE_COUNT, owner: 'inv-last' });

    expect(last).toMatchObject({ action: 'completed', result: { status: 'failed' }, runFinished: true });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsFailed: 1 });
    // Retries of one run count once on the tenant.
    expect((await w.tenants.get(T))?.consecutiveFailures).toBe(1);
  });

  it('counts the tenant skipped when another run holds its lease', async () => {
    const w = await world(1);
    await w.leases.acquire(T, runLeaseOwner('other-run', 'inv-9'), LEASE_MS);

    const result = await processCollectMessage(w, { body: body(0), dequeueCount: 1, owner: 'inv-1' });

    expect(result).toMatchObject({ action: 'completed', result: { status: 'skipped' }, runFinished: true });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsSkipped: 1 });
  });

  it("redelivers while a copy of this run's message holds the lease; the last delivery counts it once", async () => {
    const w = await world(1);
    const copy = await w.leases.acquire(T, runLeaseOwner(RUN, 'inv-copy'), LEASE_MS);

    await expect(processCollectMessage(w, { body: body(0), dequeueCount: 1, owner: 'inv-1' })).rejects.toBeInstanceOf(
      RetryableCollectionError,
    );
    expect(await w.runs.isSettled(RUN, STARTED, 0)).toBe(false);
    const last = await processCollectMessage(w, { body: body(0), dequeueCount: MAX_DEQUEUE_COUNT, owner: 'inv-2' });
    expect(last).toMatchObject({ action: 'completed', result: { status: 'skipped' } });

    // The copy settles later: its slot is already counted, so the run still counts the tenant once.
    expect(await w.runs.recordTenant(RUN, STARTED, ok, 0)).toBe(false);
    await w.leases.release(copy!);
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 0, tenantsSkipped: 1 });
  });

  it('leaves a slotless message to the holder of its own run without counting it', async () => {
    const w = await world(1);
    await w.leases.acquire(T, runLeaseOwner(RUN, 'inv-copy'), LEASE_MS);

    const result = await processCollectMessage(w, { body: body(), dequeueCount: 1, owner: 'inv-1' });

    expect(result).toEqual({ action: 'duplicate', runFinished: false });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 0, tenantsSkipped: 0 });
  });

  it('when the holder of this run lets go after counting the tenant, completes as a duplicate', async () => {
    // Prepare: the copy holds the lease; when the worker asks who holds it, the copy has just settled and released.
    const w = await world(1);
    const copy = await w.leases.acquire(T, runLeaseOwner(RUN, 'inv-copy'), LEASE_MS);
    const leases: LeaseStore = {
      acquire: (...a) => w.leases.acquire(...a),
      renew: (...a) => w.leases.renew(...a),
      release: (...a) => w.leases.release(...a),
      holder: async (tenantId) => {
        if (await w.leases.holder(tenantId)) {
          await w.runs.recordTenant(RUN, STARTED, ok, 0);
          await w.leases.release(copy!);
        }
        return w.leases.holder(tenantId);
      },
    };

    const result = await processCollectMessage({ ...w, leases }, { body: body(0), dequeueCount: 1, owner: 'inv-1' });

    expect(result).toEqual({ action: 'duplicate', runFinished: true });
    expect(w.tokens.calls).toEqual([]);
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 1, tenantsSkipped: 0 });
  });

  it('when the holder died without counting, collects the tenant now', async () => {
    // Prepare: the holder of this run released the lease without recording (it crashed after its lease expired).
    const w = await world(1);
    await w.leases.acquire(T, runLeaseOwner(RUN, 'inv-copy'), LEASE_MS);
    let freed = false;
    const leases: LeaseStore = {
      acquire: (...a) => w.leases.acquire(...a),
      renew: (...a) => w.leases.renew(...a),
      release: (...a) => w.leases.release(...a),
      holder: async (tenantId) => {
        if (!freed) {
          freed = true;
          w.clock.advance(LEASE_MS);
        }
        return w.leases.holder(tenantId);
      },
    };

    const result = await processCollectMessage({ ...w, leases }, { body: body(0), dequeueCount: 1, owner: 'inv-1' });

    expect(result).toMatchObject({ action: 'completed', result: { status: 'ok' }, runFinished: true });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ tenantsOk: 1 });
  });

  it('discards a malformed message and counts a dead letter in its run', async () => {
    const w = await world(1);

    const result = await processCollectMessage(w, {
      body: { runId: RUN, runStartedAt: STARTED, tenantId: 'not-a-guid' },
      dequeueCount: 1,
      owner: 'inv-1',
    });

    expect(result).toMatchObject({ action: 'discarded', reason: expect.stringContaining('tenantId') });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({ deadLetters: 1, finishedAt: STARTED });
  });
});

describe('processCollectMessage: a refused partner credential stops the queued run (design §7)', () => {
  it('the first refusal is noted on the run; later workers record credential_error without calling Entra', async () => {
    const ids = [T, '0a1b2c3d-0000-4000-8000-00000000000c', '0a1b2c3d-0000-4000-8000-00000000000d'];
    const w = fakeWorld({
      source: {
        scripts: Object.fromEntries(ids.map((id) => [id, { pages: [{ incidents: [], checkpoint: STARTED }] }])),
      },
    });
    for (const id of ids) {
      w.tenants.seed({ tenantId: id, displayName: id, status: 'active', consentedAt: '2026-01-01T00:00:00Z' });
      w.tokens.failsWith(id, 'credential_error', 'AADSTS7000215');
    }
    await w.runs.create(run(ids.length));

    const outcomes = [];
    for (const [slot, id] of ids.entries())
      outcomes.push(
        await processCollectMessage(w, {
          body: { runId: RUN, runStartedAt: STARTED, tenantId: id, slot },
          dequeueCount: 1,
          owner: `inv-${slot}`,
        }),
      );

    expect(new Set(w.tokens.calls.map((c) => ids.find((id) => c.includes(id))))).toEqual(new Set([T]));
    for (const o of outcomes)
      expect(o).toMatchObject({
        action: 'completed',
        result: { status: 'failed', error: { code: 'AADSTS7000215', kind: 'credential_error' } },
      });
    for (const id of ids)
      expect(await w.tenants.get(id)).toMatchObject({ status: 'credential_error', lastErrorCode: 'AADSTS7000215' });
    expect(await w.runs.get(RUN, STARTED)).toMatchObject({
      tenantsFailed: 3,
      credentialFailure: 'AADSTS7000215',
      finishedAt: STARTED,
    });
  });
});
