/**
 * Two workers for one tenant at once. Overlapping runs: the per-tenant lease lets exactly one collect, the other
 * run counts the tenant skipped, and the checkpoint only ever moves forward, sampled throughout. Copies of one run's
 * message (queues deliver at least once): counted once, and never dropped while the holder might not record.
 * The simulator holds its answers while the second worker runs, so the overlap is certain, not a matter of timing.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectSchedule } from '../../functions/timer/collectSchedule.js';
import { collectTenant } from '../../functions/queue/collectTenant.js';
import { tenantCollectOutput } from '../../functions/queue/tenantCollectOutput.js';
import { compareInstants } from '../../shared/domain/time.js';
import { runLeaseOwner } from '../../shared/domain/runSlots.js';
import type { TenantCollectMessage } from '../../shared/usecases/planRun.js';
import { MAX_DEQUEUE_COUNT } from '../../shared/usecases/queueWorker.js';
import { startHarness, toArray, type Harness } from './functionsHarness.js';

const TENANT = 'c0cc0000-0000-4000-8000-000000000001';

describe('two workers at once for one tenant', () => {
  let h: Harness;

  async function plan(): Promise<TenantCollectMessage> {
    const context = h.context('collectSchedule');
    await collectSchedule(
      { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } },
      context,
    );
    const messages = context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    expect(messages).toHaveLength(1);
    return messages[0] as TenantCollectMessage;
  }

  beforeAll(async () => {
    h = await startHarness({ tenants: [{ tenantId: TENANT, incidents: 260 }] });
    await h.seedTenant(TENANT, { status: 'active', consentedAt: new Date().toISOString() });
  });
  afterAll(async () => {
    await h?.stop();
  });

  /**
   * Hold the simulator's incident-list answers until `open()`: the collector that got there keeps its lease.
   * `reached` settles when the first list request arrives, i.e. after that collector took the lease (event order,
   * not a poll against a deadline).
   */
  function gateIncidentPages(): { reached: Promise<void>; open: () => void } {
    let open!: () => void;
    let arrived!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const reached = new Promise<void>((resolve) => (arrived = resolve));
    h.stack.graph.onRequest = async (req) => {
      if (req.path === '/v1.0/security/incidents') {
        arrived();
        await gate;
      }
    };
    return {
      reached,
      open: () => {
        h.stack.graph.onRequest = undefined;
        open();
      },
    };
  }

  /** The lease holder once the gated collector asks for its first page (it holds the lease by then). */
  async function leaseHolderAt(reached: Promise<void>): Promise<string> {
    await reached;
    const holder = await h.services.leases.holder(TENANT);
    if (holder === undefined) throw new Error('The collector asked for incidents without holding the tenant lease');
    return holder;
  }

  /** Deliver `message` once, and run `meanwhile` while that worker holds the lease, waiting for its first page. */
  async function whileCollecting(
    message: TenantCollectMessage,
    meanwhile: (holder: string) => Promise<void>,
  ): Promise<void> {
    const gate = gateIncidentPages();
    let first: Promise<void> | undefined;
    try {
      first = collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
      const settledEarly = first.then(() => {
        throw new Error('The worker finished without asking the simulator for incidents');
      });
      await meanwhile(await leaseHolderAt(Promise.race([gate.reached, settledEarly])));
    } finally {
      gate.open();
      await first;
    }
  }

  const listCalls = (): number => h.stack.graph.requests.filter((r) => r.path === '/v1.0/security/incidents').length;
  const logged = (event: string): number => h.logs.filter((l) => l.text.includes(`"event":"${event}"`)).length;

  it('exactly one collects, the other (another run) completes as skipped, and the checkpoint never regresses', async () => {
    const [a, b] = [await plan(), await plan()];
    expect(a.runId).not.toBe(b.runId);

    const checkpoints: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const w = (await h.services.tenants.get(TENANT))?.checkpoint;
        if (w !== undefined) checkpoints.push(w);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    const listCallsBefore = listCalls();
    try {
      await whileCollecting(a, async (holder) => {
        expect(holder).toMatch(new RegExp(`^run:${a.runId}/`));
        // b's run finds a's collection in flight: it counts the tenant skipped and completes.
        await collectTenant(b, h.context('collectTenant', { dequeueCount: 1 }));
      });
    } finally {
      sampling = false;
      await sampler;
    }

    const runs = [
      await h.services.runs.get(a.runId, a.runStartedAt),
      await h.services.runs.get(b.runId, b.runStartedAt),
    ];
    expect(runs.map((r) => [r?.tenantsOk, r?.tenantsSkipped])).toEqual([
      [1, 0],
      [0, 1],
    ]);
    expect(runs.every((r) => r?.finishedAt)).toBe(true);
    expect(logged('tenant.lease_held')).toBe(1);
    expect(logged('queue.tenant_busy')).toBe(1);

    // One collection's worth of list calls: 260 incidents at 50 per page.
    expect(listCalls() - listCallsBefore).toBe(Math.ceil(260 / 50));

    for (let i = 1; i < checkpoints.length; i++)
      expect(compareInstants(checkpoints[i] as string, checkpoints[i - 1] as string)).toBeGreaterThanOrEqual(0);
    const truth = h.stack.world.graphIncidents(TENANT);
    const highest = truth
      .map((i) => String(i.lastUpdateDateTime))
      .sort(compareInstants)
      .at(-1) as string;
    expect((await h.services.tenants.get(TENANT))?.checkpoint).toBe(highest);
    expect((await toArray(h.services.snapshots.latest({ tenantId: TENANT }))).length).toBe(260);
  });

  it('a redelivery after the collection finished is harmless: no new versions, checkpoint kept, counted once', async () => {
    const before = await h.services.tenants.get(TENANT);
    const message = await plan();
    expect(message.slot).toBe(0);
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
    const callsAfterFirst = listCalls();
    // The worker that recorded it failed before the message was deleted: the run already counts the tenant, so
    // the redelivery collects nothing.
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 2 }));
    expect(listCalls()).toBe(callsAfterFirst);
    expect(logged('queue.duplicate_message')).toBe(1);
    // A second copy delivered for the first time collects again (nothing new), and is not counted again.
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
    expect(listCalls()).toBeGreaterThan(callsAfterFirst);
    expect(logged('queue.duplicate_result')).toBe(1);

    expect(await h.services.runs.get(message.runId, message.runStartedAt)).toMatchObject({
      tenantsPlanned: 1,
      tenantsOk: 1,
      tenantsSkipped: 0,
      tenantsFailed: 0,
    });
    const after = await h.services.tenants.get(TENANT);
    expect(compareInstants(after?.checkpoint as string, before?.checkpoint as string)).toBe(0);
    expect((await toArray(h.services.snapshots.history({ tenantId: TENANT }))).length).toBe(260);
  });

  it('a copy that finds its own run collecting is redelivered, not dropped, and then completes without collecting', async () => {
    for (let i = 0; i < 120; i++) h.stack.world.addIncident(TENANT, { lastUpdate: new Date(Date.now() - 1_000) });
    const message = await plan();
    await whileCollecting(message, async () => {
      // The visibility timeout ran out under the first delivery: the platform delivers the message again.
      await expect(collectTenant(message, h.context('collectTenant', { dequeueCount: 2 }))).rejects.toMatchObject({
        name: 'RetryableCollectionError',
        code: 'LEASE_HELD',
      });
      expect(await h.services.runs.get(message.runId, message.runStartedAt)).toMatchObject({
        tenantsOk: 0,
        tenantsSkipped: 0,
      });
    });
    const calls = listCalls();
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 3 }));
    expect(listCalls()).toBe(calls);
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run).toMatchObject({
      tenantsPlanned: 1,
      tenantsOk: 1,
      tenantsSkipped: 0,
      tenantsFailed: 0,
      incidentsChanged: 120,
    });
    expect(run?.finishedAt).toBeTruthy();
    expect((await toArray(h.services.snapshots.latest({ tenantId: TENANT }))).length).toBe(380);
  });

  it('a holder of its own run that died with the lease is waited for, then the last delivery settles the run', async () => {
    const message = await plan();
    const dead = await h.services.leases.acquire(
      TENANT,
      runLeaseOwner(message.runId, 'crashed-invocation'),
      10 * 60_000,
    );
    expect(dead).toBeDefined();
    try {
      for (let delivery = 1; delivery < MAX_DEQUEUE_COUNT; delivery++) {
        await expect(
          collectTenant(message, h.context('collectTenant', { dequeueCount: delivery })),
        ).rejects.toMatchObject({ code: 'LEASE_HELD' });
      }
      await collectTenant(message, h.context('collectTenant', { dequeueCount: MAX_DEQUEUE_COUNT }));
    } finally {
      if (dead) await h.services.leases.release(dead);
    }
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run).toMatchObject({ tenantsPlanned: 1, tenantsOk: 0, tenantsSkipped: 1 });
    expect(run?.finishedAt).toBeTruthy();
    expect(logged('queue.tenant_busy_last_delivery')).toBe(1);
  });

  it('a collection whose lease was taken over stops, writes nothing on the tenant, and its run counts it skipped', async () => {
    for (let i = 0; i < 60; i++) h.stack.world.addIncident(TENANT, { lastUpdate: new Date(Date.now() - 1_000) });
    const before = await h.services.tenants.get(TENANT);
    const message = await plan();
    try {
      await whileCollecting(message, async () => {
        // The worker stalled past its lease: 11 minutes on, another run takes the tenant over. At 6 minutes the
        // stalled worker's next renewal finds the lease gone.
        h.setClockOffset(11 * 60_000);
        expect(await h.services.leases.acquire(TENANT, runLeaseOwner('another-run', 'x'), 10 * 60_000)).toBeDefined();
        h.setClockOffset(6 * 60_000);
      });
    } finally {
      h.setClockOffset(0);
    }
    expect(logged('tenant.lease_lost')).toBe(1);
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run).toMatchObject({ tenantsOk: 0, tenantsFailed: 0, tenantsSkipped: 1 });
    expect(run?.finishedAt).toBeTruthy();
    const after = await h.services.tenants.get(TENANT);
    expect(after).toMatchObject({ status: 'active', consecutiveFailures: before?.consecutiveFailures });
    expect(after?.lastErrorCode).toBe(before?.lastErrorCode);
    const stolen = await h.services.leases.holder(TENANT);
    if (stolen) await h.services.leases.release({ tenantId: TENANT, owner: stolen, expiresAt: '' });
  });

  it('a message without a slot (enqueued by an earlier version) is still collected and recorded', async () => {
    const { slot, ...older } = await plan();
    expect(slot).toBe(0);
    h.stack.world.addIncident(TENANT, { lastUpdate: new Date(Date.now() - 1_000) });
    await collectTenant(older, h.context('collectTenant', { dequeueCount: 1 }));
    const run = await h.services.runs.get(older.runId, older.runStartedAt);
    expect(run).toMatchObject({ tenantsOk: 1 });
    expect(run?.finishedAt).toBeTruthy();
    // It also picks up what the collection that lost its lease (above) left: the store equals the API again.
    expect((await toArray(h.services.snapshots.latest({ tenantId: TENANT }))).length).toBe(
      h.stack.world.incidentCount(TENANT),
    );
  });
});
