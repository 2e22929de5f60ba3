/**
 * The scheduled run through the real handlers: timer → messages on the output binding → queue worker → run row;
 * transient failures are retried by the platform (the handler throws) until the last delivery; malformed and
 * poison messages are recorded, never lost.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Timer } from '@azure/functions';
import { collectSchedule } from '../../functions/timer/collectSchedule.js';
import { collectTenant } from '../../functions/queue/collectTenant.js';
import { collectTenantPoison } from '../../functions/queue/collectTenantPoison.js';
import { tenantCollectOutput } from '../../functions/queue/tenantCollectOutput.js';
import type { TenantCollectMessage } from '../../shared/usecases/planRun.js';
import { MAX_DEQUEUE_COUNT } from '../../shared/usecases/queueWorker.js';
import { startHarness, toArray, type Harness } from './functionsHarness.js';

const T = {
  active: '5c0f0000-0000-4000-8000-000000000001',
  credentialError: '5c0f0000-0000-4000-8000-000000000002',
  failingRevoked: '5c0f0000-0000-4000-8000-000000000003',
  disabled: '5c0f0000-0000-4000-8000-000000000004',
  revokedRecently: '5c0f0000-0000-4000-8000-000000000005',
  revokedDue: '5c0f0000-0000-4000-8000-000000000006',
  pending: '5c0f0000-0000-4000-8000-000000000007',
  flaky: '5c0f0000-0000-4000-8000-000000000008',
} as const;

const HOUR = 3_600_000;
const timer = (isPastDue = false): Timer => ({
  isPastDue,
  schedule: { adjustForDST: true },
  scheduleStatus: {
    last: new Date(Date.now() - HOUR).toISOString(),
    next: new Date(Date.now() + HOUR).toISOString(),
    lastUpdated: new Date().toISOString(),
  },
});

describe('scheduled run through the function handlers', () => {
  let h: Harness;

  async function plan(): Promise<TenantCollectMessage[]> {
    const context = h.context('collectSchedule');
    await collectSchedule(timer(), context);
    return context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
  }

  async function deliver(message: unknown, dequeueCount = 1): Promise<void> {
    await collectTenant(message, h.context('collectTenant', { dequeueCount }));
  }

  beforeAll(async () => {
    h = await startHarness({
      tenants: [
        { tenantId: T.active, incidents: 30 },
        { tenantId: T.credentialError, incidents: 4 },
        { tenantId: T.failingRevoked, incidents: 3, consent: 'revoked' },
        { tenantId: T.disabled, incidents: 3 },
        { tenantId: T.revokedRecently, incidents: 3 },
        { tenantId: T.revokedDue, incidents: 6 },
        { tenantId: T.pending, incidents: 3, consent: 'none' },
        { tenantId: T.flaky, incidents: 3 },
      ],
    });
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('enqueues exactly the due tenants, and the worker settles the run', async () => {
    const now = Date.now();
    const recent = new Date(now - HOUR).toISOString();
    const longAgo = new Date(now - 48 * HOUR).toISOString();
    await h.seedTenant(T.active, { status: 'active', consentedAt: longAgo });
    await h.seedTenant(T.credentialError, {
      status: 'credential_error',
      consentedAt: longAgo,
      statusChangedAt: recent,
    });
    await h.seedTenant(T.failingRevoked, {
      status: 'failing',
      consentedAt: longAgo,
      statusChangedAt: recent,
      consecutiveFailures: 3,
    });
    await h.seedTenant(T.disabled, { status: 'disabled', consentedAt: longAgo, statusChangedAt: longAgo });
    await h.seedTenant(T.revokedRecently, { status: 'consent_revoked', consentedAt: longAgo, statusChangedAt: recent });
    await h.seedTenant(T.revokedDue, {
      status: 'consent_revoked',
      consentedAt: longAgo,
      statusChangedAt: longAgo,
      lastProbeAt: longAgo,
    });
    await h.seedTenant(T.pending, { status: 'pending_consent', statusChangedAt: recent });

    const messages = await plan();
    // credential_error and failing are enqueued by design (they heal by themselves); a re-probe is due for one.
    expect(messages.map((m) => m.tenantId).sort()).toEqual(
      [T.active, T.credentialError, T.failingRevoked, T.revokedDue].sort(),
    );
    const first = messages[0] as TenantCollectMessage;
    expect(messages.every((m) => m.runId === first.runId && m.runStartedAt === first.runStartedAt)).toBe(true);
    expect(await h.services.runs.get(first.runId, first.runStartedAt)).toMatchObject({
      trigger: 'schedule',
      tenantsPlanned: 7,
      tenantsSkipped: 3,
      tenantsOk: 0,
      // The timer records the partner credential it found (health reads its expiry from here, design §11).
      credential: { kind: 'secret', name: 'partner-client-secret' },
    });

    for (const message of messages) await deliver(message);

    const run = await h.services.runs.get(first.runId, first.runStartedAt);
    expect(run).toMatchObject({ tenantsPlanned: 7, tenantsOk: 3, tenantsFailed: 1, tenantsSkipped: 3, deadLetters: 0 });
    expect(run?.finishedAt).toBeTruthy();

    // The worker collected: the store holds the simulator's truth for the active tenant.
    const stored = await toArray(h.services.snapshots.latest({ tenantId: T.active }));
    const truth = h.stack.world.graphIncidents(T.active);
    expect(stored.map((s) => s.incidentId).sort()).toEqual(truth.map((i) => String(i.id)).sort());
    for (const s of stored) expect(s.incident).toEqual(truth.find((i) => String(i.id) === s.incidentId));

    expect(await h.services.tenants.get(T.credentialError)).toMatchObject({ status: 'active' });
    expect(await h.services.tenants.get(T.revokedDue)).toMatchObject({ status: 'active' });
    expect(await h.services.tenants.get(T.failingRevoked)).toMatchObject({
      status: 'consent_revoked',
      lastErrorCode: 'AADSTS700016',
    });
    expect((await toArray(h.services.snapshots.latest({ tenantId: T.failingRevoked }))).length).toBe(0);
  });

  it('logs through the invocation context and notes a past-due tick', async () => {
    const before = h.logs.length;
    const context = h.context('collectSchedule');
    await collectSchedule(timer(true), context);
    const lines = h.logs.slice(before).map((l) => l.text);
    expect(lines.some((l) => l.includes('"event":"schedule.past_due"'))).toBe(true);
    expect(lines.some((l) => l.includes('"event":"run.planned"'))).toBe(true);
    // Drain that run so later tests start clean.
    for (const m of context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[]) await deliver(m);
  });

  it('rethrows a transient failure for redelivery, and records it on the last delivery', async () => {
    await h.seedTenant(T.flaky, { status: 'active', consentedAt: new Date().toISOString() });
    h.stack.graph.inject({
      match: (r) => r.tenantId === T.flaky && r.path.includes('/security/incidents'),
      status: 503,
      times: Infinity,
    });
    try {
      const message = (await plan()).find((m) => m.tenantId === T.flaky) as TenantCollectMessage;
      expect(message).toBeDefined();
      await expect(deliver(message, 1)).rejects.toMatchObject({ name: 'RetryableCollectionError', code: 'HTTP_503' });
      await expect(deliver(message, MAX_DEQUEUE_COUNT - 1)).rejects.toMatchObject({ code: 'HTTP_503' });
      let run = await h.services.runs.get(message.runId, message.runStartedAt);
      expect(run?.tenantsFailed).toBe(0);

      await deliver(message, MAX_DEQUEUE_COUNT);
      run = await h.services.runs.get(message.runId, message.runStartedAt);
      expect(run?.tenantsFailed).toBe(1);
      expect(await h.services.tenants.get(T.flaky)).toMatchObject({ lastErrorCode: 'HTTP_503' });
    } finally {
      h.stack.graph.clearFaults();
    }
  });

  it('counts the redeliveries of one run once on the tenant (design §4: failing after 3 failed runs)', async () => {
    await h.seedTenant(T.flaky, { status: 'active', consecutiveFailures: 0, lastErrorCode: '', lastError: '' });
    h.stack.graph.inject({
      match: (r) => r.tenantId === T.flaky && r.path.includes('/security/incidents'),
      status: 503,
      times: Infinity,
    });
    try {
      const message = (await plan()).find((m) => m.tenantId === T.flaky) as TenantCollectMessage;
      for (let delivery = 1; delivery <= MAX_DEQUEUE_COUNT; delivery++)
        await deliver(message, delivery).catch(() => undefined);
      expect(await h.services.tenants.get(T.flaky)).toMatchObject({
        status: 'active',
        consecutiveFailures: 1,
        lastErrorCode: 'HTTP_503',
      });
    } finally {
      h.stack.graph.clearFaults();
    }
  });

  it('completes a malformed message without retrying and counts it as a dead letter of its run', async () => {
    const messages = await plan();
    const first = messages[0] as TenantCollectMessage;
    await deliver({ runId: first.runId, runStartedAt: first.runStartedAt, tenantId: 'not-a-guid' });
    await deliver('this is not json');
    const run = await h.services.runs.get(first.runId, first.runStartedAt);
    expect(run?.deadLetters).toBe(1);
    expect(h.logs.some((l) => l.text.includes('"event":"queue.message_malformed"'))).toBe(true);
    for (const m of messages) await deliver(m);
  });

  it('records a poison message on the tenant (status kept) and in its run', async () => {
    const messages = await plan();
    const message = messages.find((m) => m.tenantId === T.active) as TenantCollectMessage;
    const before = await h.services.tenants.get(T.active);
    // The host would deliver the JSON message body after maxDequeueCount failed deliveries.
    await collectTenantPoison(JSON.stringify(message), h.context('collectTenantPoison', { dequeueCount: 1 }));
    const tenant = await h.services.tenants.get(T.active);
    expect(tenant?.status).toBe(before?.status);
    expect(tenant?.checkpoint).toBe(before?.checkpoint);
    expect(tenant?.lastErrorCode).toBe('DEAD_LETTER');
    expect(tenant?.lastError).toContain(message.runId);
    expect(tenant?.lastError).toContain(String(MAX_DEQUEUE_COUNT));
    const run = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(run?.deadLetters).toBe(1);

    for (const m of messages.filter((x) => x !== message)) await deliver(m);
    const settled = await h.services.runs.get(message.runId, message.runStartedAt);
    expect(settled?.finishedAt).toBeTruthy();
  });

  it('a poison copy of a message whose tenant the run already counted is not a dead letter', async () => {
    await h.seedTenant(T.active, { status: 'active', lastErrorCode: '', lastError: '' });
    const messages = await plan();
    const message = messages.find((m) => m.tenantId === T.active) as TenantCollectMessage;
    await deliver(message);
    // The worker recorded the tenant, then (say) storage failed before the message was deleted, on every delivery.
    await collectTenantPoison(JSON.stringify(message), h.context('collectTenantPoison', { dequeueCount: 1 }));
    expect((await h.services.tenants.get(T.active))?.lastErrorCode).toBeUndefined();
    expect(await h.services.runs.get(message.runId, message.runStartedAt)).toMatchObject({
      tenantsOk: 1,
      deadLetters: 0,
    });
    expect(h.logs.some((l) => l.text.includes('"event":"queue.dead_letter_already_counted"'))).toBe(true);
    for (const m of messages.filter((x) => x !== message)) await deliver(m);
    expect((await h.services.runs.get(message.runId, message.runStartedAt))?.finishedAt).toBeTruthy();
  });
});
