/**
 * Two workers for one tenant at once (overlapping runs): the per-tenant lease lets exactly one collect; the other
 * completes its message as skipped; the checkpoint only ever moves forward, sampled throughout. Copies of one
 * run's message (queues deliver at least once) are counted in the run once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectSchedule } from '../../functions/collectSchedule.js';
import { collectTenantWorker } from '../../functions/collectTenant.js';
import { tenantCollectQueue } from '../../functions/tenantCollectQueue.js';
import { compareInstants } from '../../shared/domain/time.js';
import type { TenantCollectMessage } from '../../shared/usecases/planRun.js';
import { startHarness, toArray, type Harness } from './functionsHarness.js';

const TENANT = 'c0cc0000-0000-4000-8000-000000000001';

describe('two workers at once for one tenant', () => {
  let h: Harness;

  async function plan(): Promise<TenantCollectMessage> {
    const context = h.context('collectSchedule');
    await collectSchedule({ isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: '', next: '', lastUpdated: '' } }, context);
    const messages = context.extraOutputs.get(tenantCollectQueue) as TenantCollectMessage[];
    expect(messages).toHaveLength(1);
    return messages[0] as TenantCollectMessage;
  }

  beforeAll(async () => {
    h = await startHarness({ tenants: [{ tenantId: TENANT, incidents: 260 }] });
    await h.seedTenant(TENANT, { status: 'active', consentedAt: new Date().toISOString() });
    // Slow pages so the two collections overlap for certain.
    h.stack.graph.latencyMs = 40;
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('exactly one collects, the other completes as skipped, and the checkpoint never regresses', async () => {
    const [a, b] = [await plan(), await plan()];
    expect(a.runId).not.toBe(b.runId);

    const watermarks: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const w = (await h.services.tenants.get(TENANT))?.watermark;
        if (w !== undefined) watermarks.push(w);
        await new Promise((resolve) => setTimeout(resolve, 15));
      }
    })();
    const listCallsBefore = h.stack.graph.requests.filter((r) => r.path === '/v1.0/security/incidents').length;
    try {
      await Promise.all([
        collectTenantWorker(a, h.context('collectTenant', { dequeueCount: 1 })),
        collectTenantWorker(b, h.context('collectTenant', { dequeueCount: 1 })),
      ]);
    } finally {
      sampling = false;
      await sampler;
    }

    const runs = [await h.services.runs.get(a.runId, a.runStartedAt), await h.services.runs.get(b.runId, b.runStartedAt)];
    expect(runs.map((r) => r?.tenantsOk).sort()).toEqual([0, 1]);
    expect(runs.map((r) => r?.tenantsSkipped).sort()).toEqual([0, 1]);
    expect(runs.every((r) => r?.finishedAt)).toBe(true);
    expect(h.logs.filter((l) => l.text.includes('"event":"tenant.lease_held"'))).toHaveLength(1);

    // One collection's worth of list calls: 260 incidents at 50 per page.
    const listCalls = h.stack.graph.requests.filter((r) => r.path === '/v1.0/security/incidents').length - listCallsBefore;
    expect(listCalls).toBe(Math.ceil(260 / 50));

    for (let i = 1; i < watermarks.length; i++) expect(compareInstants(watermarks[i] as string, watermarks[i - 1] as string)).toBeGreaterThanOrEqual(0);
    const truth = h.stack.world.graphIncidents(TENANT);
    const highest = truth.map((i) => String(i.lastUpdateDateTime)).sort(compareInstants).at(-1) as string;
    expect((await h.services.tenants.get(TENANT))?.watermark).toBe(highest);
    expect((await toArray(h.services.snapshots.latest({ tenantId: TENANT }))).length).toBe(260);
  });

  const listCalls = (): number => h.stack.graph.requests.filter((r) => r.path === '/v1.0/security/incidents').length;
  const logged = (event: string): number => h.logs.filter((l) => l.text.includes(`"event":"${event}"`)).length;

  it('a duplicate message after the collection finished is harmless: no new versions, checkpoint kept, counted once', async () => {
    const before = await h.services.tenants.get(TENANT);
    const message = await plan();
    expect(message.slot).toBe(0);
    await collectTenantWorker(message, h.context('collectTenant', { dequeueCount: 1 }));
    const callsAfterFirst = listCalls();
    // A redelivery (the worker that recorded it failed before the message was deleted): the run already counts
    // the tenant, so nothing is collected again.
    await collectTenantWorker(message, h.context('collectTenant', { dequeueCount: 2 }));
    expect(listCalls()).toBe(callsAfterFirst);
    expect(logged('queue.duplicate_message')).toBe(1);
    // A second copy delivered for the first time collects again (nothing new), and is not counted again.
    await collectTenantWorker(message, h.context('collectTenant', { dequeueCount: 1 }));
    expect(listCalls()).toBeGreaterThan(callsAfterFirst);
    expect(logged('queue.duplicate_result')).toBe(1);

    expect(await h.services.runs.get(message.runId, message.runStartedAt)).toMatchObject({ tenantsPlanned: 1, tenantsOk: 1, tenantsSkipped: 0, tenantsFailed: 0 });
    const after = await h.services.tenants.get(TENANT);
    expect(compareInstants(after?.watermark as string, before?.watermark as string)).toBe(0);
    expect((await toArray(h.services.snapshots.history({ tenantId: TENANT }))).length).toBe(260);
  });

  it('two copies of one message at once: one collects, the other leaves the outcome to it; the run counts the tenant once', async () => {
    // New incidents so the collection has pages to fetch (slow ones, so the copies overlap for certain).
    for (let i = 0; i < 120; i++) h.stack.world.addIncident(TENANT, { lastUpdate: new Date(Date.now() - 1_000) });
    const message = await plan();
    const inFlightBefore = logged('queue.duplicate_in_flight');
    await Promise.all([
      collectTenantWorker(message, h.context('collectTenant', { dequeueCount: 1 })),
      collectTenantWorker(message, h.context('collectTenant', { dequeueCount: 1 })),
    ]);
    expect(logged('queue.duplicate_in_flight') - inFlightBefore).toBe(1);
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run).toMatchObject({ tenantsPlanned: 1, tenantsOk: 1, tenantsSkipped: 0, tenantsFailed: 0 });
    expect(run?.incidentsChanged).toBe(120);
    expect(run?.finishedAt).toBeTruthy();
    expect((await toArray(h.services.snapshots.latest({ tenantId: TENANT }))).length).toBe(380);
  });
});
