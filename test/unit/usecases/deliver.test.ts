/**
 * The delivery engine (design §9) on fakes: filters, order per incident under retries (others not held up), the
 * retry schedule on an injected clock → dead letter → replay, 410 → disabled → enable, subscriptions added later,
 * two deliverers at once, the same body on redelivery, log-analytics without a sender kept pending.
 */
import { describe, expect, it } from '@jest/globals';
import type { SubscriptionInput } from '../../../shared/domain/subscription.js';
import {
  noMetrics,
  type CollectorMetrics,
  type DeliveryOutcome,
  type IncidentCloudEvent,
  type IncidentEventType,
} from '../../../shared/ports.js';
import { deliveryExitCode } from '../../../shared/cli/subscriptionCommands.js';
import {
  deliverPass,
  FULL_PASS_INTERVAL_MS,
  FullPassSchedule,
  type DeliverDeps,
} from '../../../shared/usecases/deliver.js';
import {
  addSubscription,
  deliveryHealth,
  enableSubscription,
  listDeadLetters,
  listSubscriptions,
  replaySubscription,
  subscriptionSummaries,
  type SubscriptionDeps,
} from '../../../shared/usecases/subscriptions.js';
import {
  FakeDeliveryStateStore,
  FakeEventLog,
  FakeLeaseStore,
  FakeSubscriptionSecrets,
  FakeSubscriptionStore,
  FakeTenantStore,
  Journal,
  ManualClock,
  RecordingLogger,
  ScriptedWebhookSender,
} from '../../fakes/index.js';

const T1 = '0a1b2c3d-0000-4000-8000-000000000001';
const T2 = '0a1b2c3d-0000-4000-8000-000000000002';
const URL_A = 'https://a.example/hook';
const URL_B = 'https://b.example/hook';
const SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000];

interface World {
  clock: ManualClock;
  log: FakeEventLog;
  subs: FakeSubscriptionStore;
  state: FakeDeliveryStateStore;
  secrets: FakeSubscriptionSecrets;
  tenants: FakeTenantStore;
  leases: FakeLeaseStore;
  sender: ScriptedWebhookSender;
  logger: RecordingLogger;
  deps: DeliverDeps;
  mgmt: SubscriptionDeps;
  seq: Map<string, number>;
}

async function world(): Promise<World> {
  const clock = new ManualClock('2026-11-24T12:00:00.000Z');
  const log = new FakeEventLog();
  const subs = new FakeSubscriptionStore();
  const state = new FakeDeliveryStateStore();
  const secrets = new FakeSubscriptionSecrets();
  const tenants = new FakeTenantStore(new Journal());
  await tenants.upsert(T1, { displayName: 'One', status: 'active' });
  await tenants.upsert(T2, { displayName: 'Two', status: 'active' });
  const leases = new FakeLeaseStore(clock);
  const sender = new ScriptedWebhookSender();
  const logger = new RecordingLogger();
  const deps: DeliverDeps = {
    subscriptions: subs,
    state,
    events: log,
    tenants,
    leases,
    secrets,
    webhook: sender,
    clock,
    logger,
    retrySchedule: SCHEDULE,
    timeoutSeconds: 15,
  };
  const mgmt: SubscriptionDeps = {
    subscriptions: subs,
    state,
    secrets,
    events: log,
    tenants,
    clock,
    logger,
    redact: () => undefined,
  };
  return { clock, log, subs, state, secrets, tenants, leases, sender, logger, deps, mgmt, seq: new Map() };
}

/** Append one version of an incident to the fake log, stamped with the clock's time. */
function write(
  w: World,
  tenantId: string,
  incidentId: string,
  opts: { severity?: string; type?: IncidentEventType; time?: string } = {},
): IncidentCloudEvent {
  const sequence = (w.seq.get(tenantId) ?? 0) + 1;
  w.seq.set(tenantId, sequence);
  const lastUpdateTime = new Date(Date.parse('2026-11-01T00:00:00Z') + sequence * 1000).toISOString();
  const event: IncidentCloudEvent = {
    specversion: '1.0',
    id: `${tenantId}/${incidentId}/${lastUpdateTime}`,
    source: `/tenants/${tenantId}`,
    type: opts.type ?? 'incident.updated',
    subject: `incidents/${incidentId}`,
    time: opts.time ?? w.clock.iso(),
    datacontenttype: 'application/json',
    data: {
      tenantId,
      incidentId,
      lastUpdateTime,
      source: 'graph',
      sequence,
      severity: opts.severity ?? 'high',
      status: 'active',
      title: `incident ${incidentId}`,
      incident: { id: incidentId, lastUpdateDateTime: lastUpdateTime, severity: opts.severity ?? 'high' },
    },
  };
  w.log.append(event);
  return event;
}

async function subscribe(w: World, input: SubscriptionInput): Promise<string> {
  return (await addSubscription(w.mgmt, input)).id;
}

const retry = (code = 'HTTP_500'): DeliveryOutcome => ({ kind: 'retry', code, message: `answered ${code}` });

describe('deliverPass', () => {
  it('sends every event written after the subscription was added, once, and moves on', async () => {
    const w = await world();
    write(w, T1, 'old'); // before the subscription: only replay sends it
    w.clock.advance(1000);
    await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    const e1 = write(w, T1, '1');
    const e2 = write(w, T2, '2');

    const first = await deliverPass(w.deps);
    const second = await deliverPass(w.deps);

    expect(first).toMatchObject({ delivered: 2, failed: 0, deadLettered: 0, pending: 0 });
    expect(second).toMatchObject({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A).sort()).toEqual([e1.id, e2.id].sort());
  });

  it("starts at each tenant's highest sequence at add: events committed after it are sent whatever their time", async () => {
    const w = await world();
    write(w, T1, 'old');
    w.clock.advance(60_000);
    await subscribe(w, { url: URL_A });
    // Another host's snapshot clock lags the adding host's: the event's time is before createdAt, yet it was written
    // after the add.
    const late = write(w, T1, 'late', { time: new Date(w.clock.now().getTime() - 30_000).toISOString() });
    // A tenant registered after the add has no cursor row: it starts from its first event.
    const T3 = '0a1b2c3d-0000-4000-8000-000000000003';
    await w.tenants.upsert(T3, { displayName: 'Three', status: 'active' });
    const third = write(w, T3, 'x');

    const result = await deliverPass(w.deps);

    expect(result).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A).sort()).toEqual([late.id, third.id].sort());
  });

  it('filters: tenants, minimum severity (case-insensitive, unknown passes) and types', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A, tenants: [T1.toUpperCase()], minSeverity: 'Medium', types: ['incident.updated'] });
    w.clock.advance(1000);
    const high = write(w, T1, 'h', { severity: 'High' });
    write(w, T1, 'l', { severity: 'low' });
    write(w, T1, 'i', { severity: 'Informational' });
    const unknown = write(w, T1, 'u', { severity: 'unknownFutureValue' });
    write(w, T1, 'c', { severity: 'high', type: 'incident.created' });
    write(w, T2, 'other', { severity: 'high' });

    await deliverPass(w.deps);

    expect(w.sender.idsTo(URL_A)).toEqual([high.id, unknown.id]);
  });

  it('keeps order per incident under retries while other incidents and subscriptions go on', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A });
    await subscribe(w, { url: URL_B });
    w.clock.advance(1000);
    let failing = true;
    w.sender.script(URL_A, (e) =>
      failing && e.data.incidentId === 'X' ? retry() : { kind: 'delivered', status: 200 },
    );
    const x1 = write(w, T1, 'X');
    const y1 = write(w, T1, 'Y');
    const x2 = write(w, T1, 'X');
    const y2 = write(w, T1, 'Y');

    const first = await deliverPass(w.deps);
    expect(first).toMatchObject({ delivered: 6, failed: 1, pending: 2 });
    expect(w.sender.idsTo(URL_A)).toEqual([y1.id, y2.id]);
    expect(w.sender.idsTo(URL_B)).toEqual([x1.id, y1.id, x2.id, y2.id]);
    // x2 was never sent to A while x1 awaits its retry.
    expect(w.sender.sent.filter((s) => s.url === URL_A).map((s) => s.id)).toEqual([x1.id, y1.id, y2.id]);

    const notDue = await deliverPass(w.deps);
    expect(notDue).toMatchObject({ delivered: 0, failed: 0, pending: 2 });

    failing = false;
    w.clock.advance(5000);
    const due = await deliverPass(w.deps);
    expect(due).toMatchObject({ delivered: 2, failed: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual([y1.id, y2.id, x1.id, x2.id]);
  });

  it('follows the schedule on the injected clock, dead-letters after the last attempt, and replays in order', async () => {
    const w = await world();
    const id = await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    let down = true;
    w.sender.script(URL_A, () => (down ? retry('TIMEOUT') : { kind: 'delivered', status: 204 }));
    const a1 = write(w, T1, 'A');
    const a2 = write(w, T1, 'A');

    const attemptsAt: string[] = [];
    expect((await deliverPass(w.deps)).failed).toBe(1);
    attemptsAt.push(w.clock.iso());
    for (const wait of SCHEDULE.slice(0, -1)) {
      w.clock.advance(wait * 1000 - 1);
      expect(await deliverPass(w.deps)).toMatchObject({ failed: 0, deadLettered: 0 }); // 1 ms early: nothing
      w.clock.advance(1);
      expect(await deliverPass(w.deps)).toMatchObject({ failed: 1, deadLettered: 0 });
    }
    w.clock.advance((SCHEDULE.at(-1) as number) * 1000);
    // The 8th attempt of a1 fails: a1 is dead-lettered and a2 (behind it) gets its first attempt at once.
    const last = await deliverPass(w.deps);
    expect(last).toMatchObject({ deadLettered: 1, failed: 1, pending: 1 });
    expect(w.sender.sent.filter((s) => s.id === a1.id)).toHaveLength(8);

    const letters = await listDeadLetters(w.mgmt, id);
    expect(letters).toEqual([
      expect.objectContaining({ tenantId: T1, sequence: 1, eventId: a1.id, attempts: 8, lastErrorCode: 'TIMEOUT' }),
    ]);
    expect((await listSubscriptions(w.mgmt))[0]).toMatchObject({ pending: 1, deadLettered: 1 });

    down = false;
    await replaySubscription(w.mgmt, id);
    await deliverPass(w.deps);
    expect(await listDeadLetters(w.mgmt, id)).toEqual([]);
    // Replay sends from the first event again, in order; a2 (queued) follows a1.
    expect(w.sender.idsTo(URL_A)).toEqual([a1.id, a2.id]);
  });

  it('a 410 disables the subscription; its events wait until enable, then arrive in order', async () => {
    const w = await world();
    const id = await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    let gone = true;
    w.sender.script(URL_A, () => (gone ? { kind: 'gone', status: 410 } : { kind: 'delivered', status: 200 }));
    const e1 = write(w, T1, '1');
    const e2 = write(w, T2, '2');

    const first = await deliverPass(w.deps);
    expect(first.delivered).toBe(0);
    expect(await w.subs.get(id)).toMatchObject({ status: 'disabled', disabledReason: 'HTTP_410' });
    const sentWhileGone = w.sender.sent.length;
    const e3 = write(w, T1, '3');
    await deliverPass(w.deps);
    expect(w.sender.sent.length).toBe(sentWhileGone); // disabled: nothing sent

    gone = false;
    await enableSubscription(w.mgmt, id);
    const after = await deliverPass(w.deps);
    expect(after).toMatchObject({ delivered: 3, pending: 0 });
    expect(w.sender.idsTo(URL_A).sort()).toEqual([e1.id, e2.id, e3.id].sort());
  });

  it('after a 410 every remaining entry of the pass counts as pending, the one answered 410 included', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A, tenants: [T1] });
    w.clock.advance(1000);
    w.sender.script(URL_A, () => ({ kind: 'gone', status: 410 }));
    write(w, T1, '1');
    write(w, T1, '2');
    write(w, T1, '3');

    const result = await deliverPass(w.deps);

    expect(result).toMatchObject({ delivered: 0, failed: 0, pending: 3 });
    expect(w.sender.sent).toHaveLength(1);
    // The disabled subscription's backlog (list, status page) counts the events waiting after its cursor.
    write(w, T1, '4', { severity: 'low' });
    write(w, T2, 'unwanted');
    expect((await listSubscriptions(w.mgmt))[0]).toMatchObject({ status: 'disabled', pending: 4 });
    expect((await subscriptionSummaries(w.mgmt))[0]).toMatchObject({ pending: 4 });
  });

  it('an unreadable CloudEvent is a failed attempt: the entry stays pending and is sent on its retry', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A, tenants: [T1] });
    w.clock.advance(1000);
    const broken = write(w, T1, '1');
    const next = write(w, T1, '2');
    const read = w.log.cloudEvent.bind(w.log);
    let failing = true;
    w.log.cloudEvent = async (entry) => {
      if (failing && entry.sequence === broken.data.sequence)
        throw Object.assign(new Error('table answered 503'), { code: 'TABLE_UNAVAILABLE' });
      return read(entry);
    };

    const first = await deliverPass(w.deps);
    expect(first).toMatchObject({ delivered: 1, failed: 1, pending: 1, retrying: 1 });
    expect(deliveryExitCode(first)).toBe(1);
    expect(w.sender.idsTo(URL_A)).toEqual([next.id]);
    expect(w.logger.events.some((e) => e.event === 'delivery.pair_failed')).toBe(false);

    failing = false;
    w.clock.advance(5000);
    const retried = await deliverPass(w.deps);
    expect(retried).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual([next.id, broken.id]);
  });

  it('a pair stopped by a store error counts as failed (deliver exits 1) and its events wait', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A, tenants: [T1] });
    w.clock.advance(1000);
    const e1 = write(w, T1, '1');
    const pair = w.state.pair.bind(w.state);
    let failing = true;
    w.state.pair = async (subscriptionId, tenantId) => {
      if (failing) throw new Error('table answered 503');
      return pair(subscriptionId, tenantId);
    };

    const first = await deliverPass(w.deps);
    expect(first).toMatchObject({ delivered: 0, failed: 1 });
    expect(deliveryExitCode(first)).toBe(1);

    failing = false;
    const second = await deliverPass(w.deps);
    expect(second).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual([e1.id]);
  });

  it('after 2 unanswered attempts in a row a pair queues its remaining new events as due retries, unsent', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A, tenants: [T1] });
    await subscribe(w, { url: URL_B, tenants: [T1] });
    w.clock.advance(1000);
    let slow = true;
    const timeout: DeliveryOutcome = { kind: 'retry', code: 'TIMEOUT', message: 'No answer within 15 s.' };
    w.sender.script(URL_A, () => (slow ? timeout : { kind: 'delivered', status: 200 }));
    const written = ['1', '2', '3', '4', '5'].map((id) => write(w, T1, id));

    const first = await deliverPass(w.deps);

    expect(w.sender.sent.filter((s) => s.url === URL_A)).toHaveLength(2);
    expect(w.sender.idsTo(URL_B)).toEqual(written.map((e) => e.id));
    expect(first).toMatchObject({ delivered: 5, failed: 2, pending: 5, retrying: 5 });
    expect(deliveryExitCode(first)).toBe(1);

    slow = false;
    w.clock.advance(5000);
    const second = await deliverPass(w.deps);
    expect(second).toMatchObject({ delivered: 5, failed: 0, pending: 0 });
    expect(w.sender.idsTo(URL_A).sort()).toEqual(written.map((e) => e.id).sort());
  });

  it('two deliverers at once: the pair lease keeps one sender per (subscription, tenant), order holds', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    const written = [write(w, T1, 'X'), write(w, T1, 'X'), write(w, T1, 'X')];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let first = true;
    w.sender.onSend = async () => {
      if (first) {
        first = false;
        await gate; // the first deliverer stalls inside its first send
      }
    };

    const one = deliverPass({ ...w.deps, owner: 'one' });
    await new Promise((r) => setImmediate(r));
    const two = await deliverPass({ ...w.deps, owner: 'two' }); // finds the pair leased: sends nothing
    release();
    const oneResult = await one;

    expect(two).toMatchObject({ delivered: 0, pending: 3 });
    expect(oneResult).toMatchObject({ delivered: 3, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual(written.map((e) => e.id));
  });

  it('a crash after sending but before the cursor is saved redelivers the same body', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    write(w, T1, 'X');
    const save = w.state.saveCursor.bind(w.state);
    w.state.saveCursor = async () => {
      throw new Error('storage went away');
    };
    await deliverPass(w.deps);
    w.state.saveCursor = save;
    w.clock.advance(120_000); // the crashed pass's lease runs out
    await deliverPass(w.deps);

    const bodies = w.sender.sent.map((s) => s.body);
    expect(bodies).toHaveLength(2);
    expect(bodies[1]).toBe(bodies[0]);
  });

  it('log-analytics subscriptions without a sender keep their events pending with a clear error', async () => {
    const w = await world();
    const la = await subscribe(w, {
      logAnalytics: true,
      endpoint: 'https://dce.example.ingest.monitor.azure.com',
      ruleId: `dcr-${'a'.repeat(32)}`,
      stream: 'Custom-DefenderIncidents_CL',
    });
    w.clock.advance(1000);
    write(w, T1, 'X');
    write(w, T2, 'Y');

    const result = await deliverPass(w.deps);

    expect(result).toMatchObject({ delivered: 0, pending: 2 });
    expect(result.blocked).toEqual([
      expect.objectContaining({ subscriptionId: la, code: 'LOG_ANALYTICS_NOT_CONFIGURED' }),
    ]);
    expect(w.logger.events.some((e) => e.event === 'delivery.blocked' && e.level === 'error')).toBe(true);
    expect((await w.state.pair(la, T1)).cursor).toBeUndefined();
  });

  it('log-analytics: new events go in one batched call; a failed batch retries per incident, in order', async () => {
    const w = await world();
    await subscribe(w, {
      logAnalytics: true,
      endpoint: 'https://dce.example.ingest.monitor.azure.com',
      ruleId: `dcr-${'b'.repeat(32)}`,
      stream: 'Custom-DefenderIncidents_CL',
    });
    w.clock.advance(1000);
    const x1 = write(w, T1, 'X');
    const y1 = write(w, T1, 'Y');
    const x2 = write(w, T1, 'X');
    const calls: string[][] = [];
    let healthy = false;
    const deps: DeliverDeps = {
      ...w.deps,
      logAnalytics: {
        send: async (target, events) => {
          expect(target.stream).toBe('Custom-DefenderIncidents_CL');
          calls.push(events.map((x) => x.id));
          return healthy ? { kind: 'delivered', status: 204 } : retry('HTTP_503');
        },
      },
    };

    const failedPass = await deliverPass(deps);
    expect(calls).toEqual([[x1.id, y1.id, x2.id]]);
    expect(failedPass).toMatchObject({ delivered: 0, failed: 2, pending: 3 });

    healthy = true;
    w.clock.advance(5000);
    const retried = await deliverPass(deps);
    expect(retried).toMatchObject({ delivered: 3, failed: 0, pending: 0 });
    // Each incident's versions in order: X's first version before its second.
    const after = calls.slice(1).flat();
    expect(after.indexOf(x1.id)).toBeLessThan(after.indexOf(x2.id));
    expect(after.sort()).toEqual([x1.id, y1.id, x2.id].sort());

    const y2 = write(w, T1, 'Y');
    const z1 = write(w, T2, 'Z');
    await deliverPass(deps);
    expect(calls.slice(-2).sort()).toEqual([[y2.id], [z1.id]].sort());
  });

  it('replay --since re-sends from the first event at or after that time; --tenant narrows it', async () => {
    const w = await world();
    const id = await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    write(w, T1, 'X');
    w.clock.advance(60_000);
    const since = w.clock.iso();
    const later = write(w, T1, 'Y');
    write(w, T2, 'Z');
    await deliverPass(w.deps);
    const before = w.sender.sent.length;

    const r = await replaySubscription(w.mgmt, id, { since, tenants: [T1] });
    await deliverPass(w.deps);

    expect(r.tenants).toEqual([{ tenantId: T1, fromSequence: 1 }]);
    expect(w.sender.sent.slice(before).map((s) => s.id)).toEqual([later.id]);
  });
});

describe('deliverPass read limits', () => {
  it('a subscription ahead of a lagging one is not held to the shared read when that read is full', async () => {
    const w = await world();
    const lagging = await subscribe(w, { url: URL_B });
    w.clock.advance(1000);
    const early = Array.from({ length: 5 }, (_, i) => write(w, T1, `e${i}`));
    w.clock.advance(1000);
    await subscribe(w, { url: URL_A }); // gets none of the early events
    w.clock.advance(1000);
    w.sender.script(URL_B, () => ({ kind: 'gone', status: 410 }));
    const limited = { ...w.deps, readLimit: 2 };
    await deliverPass(limited); // B disabled at e0, cursor unmoved; A skips e0, e1
    await w.subs.setStatus(lagging, 'active');
    w.sender.script(URL_B, () => ({ kind: 'delivered', status: 200 }));
    const late = write(w, T1, 'late');

    await deliverPass(limited); // shared read from B's cursor: e0, e1 (full); A reads on its own: e2, e3
    await deliverPass(limited); // shared read e2, e3 (full); A reads on its own: e4, late

    expect(w.sender.idsTo(URL_A)).toEqual([late.id]);
    expect(w.sender.idsTo(URL_B)).toEqual(early.slice(0, 4).map((e) => e.id));
  });
});

describe('deliverPass time budget', () => {
  it('once the budget is spent no new send starts; the rest is pending and goes in the next pass', async () => {
    const w = await world();
    await subscribe(w, { url: URL_A });
    w.clock.advance(1000);
    const written = [write(w, T1, 'X'), write(w, T1, 'Y'), write(w, T1, 'Z')];
    // Each send takes 40 s on the injected clock; the budget is 60 s: two sends start, the third waits.
    w.sender.onSend = async () => w.clock.advance(40_000);

    const first = await deliverPass({ ...w.deps, budgetMs: 60_000 });
    expect(first).toMatchObject({ delivered: 2, pending: 1 });
    const second = await deliverPass({ ...w.deps, budgetMs: 60_000 });
    expect(second).toMatchObject({ delivered: 1, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual(written.map((e) => e.id));
  });
});

describe('deliverPass telemetry', () => {
  /** A CollectorMetrics that records the delivery calls, in order. */
  function recordingMetrics(): { metrics: CollectorMetrics; calls: string[] } {
    const calls: string[] = [];
    return {
      calls,
      metrics: {
        ...noMetrics,
        deliveryBacklog: (subscriptionId, pending) => void calls.push(`backlog ${subscriptionId} ${pending}`),
        deadLettered: (subscriptionId, count) => void calls.push(`deadLettered ${subscriptionId} ${count}`),
      },
    };
  }

  it('a dead letter logs delivery.deadlettered (ids and error code, no URL) and counts it; the backlog follows each pass', async () => {
    const w = await world();
    const secretUrl = 'https://a.example/hook?sig=query-secret-123';
    const down = await subscribe(w, { url: secretUrl });
    const healthy = await subscribe(w, { url: URL_B });
    w.clock.advance(1000);
    w.sender.script(secretUrl, () => retry('HTTP_503'));
    const { metrics, calls } = recordingMetrics();
    const deps: DeliverDeps = { ...w.deps, retrySchedule: [5], metrics };
    const x1 = write(w, T1, 'X');
    write(w, T1, 'X');

    await deliverPass(deps); // x1 fails once: x1 and x2 wait for `down`; `healthy` got both
    expect(calls.sort()).toEqual([`backlog ${down} 2`, `backlog ${healthy} 0`].sort());
    expect(w.logger.names()).not.toContain('delivery.deadlettered');

    calls.length = 0;
    w.clock.advance(5000);
    const last = await deliverPass(deps); // x1's second (last) attempt fails: dead-lettered; x2's first fails

    expect(last).toMatchObject({ deadLettered: 1, failed: 1, pending: 1 });
    const logged = w.logger.events.filter((e) => e.event === 'delivery.deadlettered');
    expect(logged).toEqual([
      {
        level: 'error',
        event: 'delivery.deadlettered',
        fields: {
          subscriptionId: down,
          tenantId: T1,
          incidentId: 'X',
          eventId: x1.id,
          attempts: 2,
          errorCode: 'HTTP_503',
        },
      },
    ]);
    expect(JSON.stringify(w.logger.events)).not.toContain('query-secret-123');
    expect(calls).toContain(`deadLettered ${down} 1`);
    expect(calls.filter((c) => c.startsWith('backlog')).sort()).toEqual(
      [`backlog ${down} 1`, `backlog ${healthy} 0`].sort(),
    );
    // The gauge is set after the pass's sends: the dead letter is counted before it.
    expect(calls.indexOf(`deadLettered ${down} 1`)).toBeLessThan(calls.indexOf(`backlog ${down} 1`));
  });
});

describe('delivery health and the status page list', () => {
  it('counts dead letters of the last 24 hours; lists subscriptions without secrets', async () => {
    const w = await world();
    const id = await subscribe(w, { url: URL_A, minSeverity: 'high' });
    const letter = {
      subscriptionId: id,
      tenantId: T1,
      incidentId: 'X',
      eventId: `${T1}/X/2026-11-01T00:00:01.000Z`,
      type: 'incident.updated' as const,
      eventTime: w.clock.iso(),
      attempts: 8,
      lastErrorCode: 'HTTP_500',
      lastError: 'answered 500',
    };
    await w.state.addDeadLetter({ ...letter, sequence: 1, deadLetteredAt: w.clock.iso() });
    w.clock.advance(23 * 3600_000);
    await w.state.addDeadLetter({ ...letter, sequence: 2, deadLetteredAt: w.clock.iso() });
    expect(await deliveryHealth(w.mgmt)).toEqual({ deadLetteredLast24h: 2 });
    w.clock.advance(2 * 3600_000);
    expect(await deliveryHealth(w.mgmt)).toEqual({ deadLetteredLast24h: 1 });

    const listed = await subscriptionSummaries(w.mgmt);
    expect(listed).toEqual([
      {
        id,
        kind: 'webhook',
        url: URL_A,
        filters: { minSeverity: 'high' },
        status: 'active',
        pending: 0,
        deadLettered: 2,
      },
    ]);
    expect(JSON.stringify(listed)).not.toContain((await w.secrets.get(id)).slice(6));
  });
});

describe('deliverPass with delivery hints (Tenants.eventSequence) and full passes', () => {
  /** The collector's part: the tenant's hint set to the highest sequence written to its fake log. */
  async function hint(w: World, tenantId: string): Promise<void> {
    await w.tenants.patch(tenantId, { eventSequence: w.log.highestSequence(tenantId) as number });
  }

  /** Deps whose store calls are counted by `port.method` (the Table round trips of the adapters, one per call). */
  function counted(deps: DeliverDeps): { deps: DeliverDeps; calls: Map<string, number>; total: () => number } {
    const calls = new Map<string, number>();
    const wrap = <T extends object>(name: string, port: T): T =>
      new Proxy(port, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => {
            const k = `${name}.${String(key)}`;
            calls.set(k, (calls.get(k) ?? 0) + 1);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    return {
      deps: {
        ...deps,
        subscriptions: wrap('subscriptions', deps.subscriptions),
        state: wrap('state', deps.state),
        events: wrap('events', deps.events),
        tenants: wrap('tenants', deps.tenants),
        leases: wrap('leases', deps.leases),
      },
      calls,
      total: () => [...calls.values()].reduce((a, b) => a + b, 0),
    };
  }

  /** A world with two subscriptions, every event so far delivered and hinted, and a schedule whose full pass is done. */
  async function settled(): Promise<World & { fullPasses: FullPassSchedule }> {
    const w = await world();
    await subscribe(w, { url: URL_A });
    await subscribe(w, { url: URL_B, tenants: [T1] });
    w.clock.advance(1000);
    write(w, T1, 'a');
    write(w, T2, 'b');
    await hint(w, T1);
    await hint(w, T2);
    const fullPasses = new FullPassSchedule();
    expect(await deliverPass({ ...w.deps, fullPasses })).toMatchObject({ delivered: 3, pending: 0 }); // full: first
    w.sender.sent.length = 0;
    return { ...w, fullPasses };
  }

  it('an idle pass with current hints costs 2 + S queries: no event log is read', async () => {
    const w = await settled();
    w.clock.advance(60_000);
    const c = counted({ ...w.deps, fullPasses: w.fullPasses });

    expect(await deliverPass(c.deps)).toMatchObject({ delivered: 0, failed: 0, pending: 0 });

    expect(Object.fromEntries(c.calls)).toEqual({ 'subscriptions.list': 1, 'tenants.list': 1, 'state.state': 2 });
    expect(c.total()).toBe(2 + 2);
  });

  it('a full pass (the first, then one FULL_PASS_INTERVAL_MS later) reads every tenant: 2 + S + T queries', async () => {
    const w = await settled();
    w.clock.advance(FULL_PASS_INTERVAL_MS - 1);
    const early = counted({ ...w.deps, fullPasses: w.fullPasses });
    await deliverPass(early.deps);
    expect(early.calls.get('events.read')).toBeUndefined();
    w.clock.advance(1);
    const full = counted({ ...w.deps, fullPasses: w.fullPasses });
    await deliverPass(full.deps);
    expect(full.calls.get('events.read')).toBe(2);
    expect(full.total()).toBe(2 + 2 + 2);
    // Without a schedule (the CLI) every pass is full.
    const cli = counted(w.deps);
    await deliverPass(cli.deps);
    expect(cli.calls.get('events.read')).toBe(2);
  });

  it('a hint above the cursor is read at once: the event goes in the next ordinary pass', async () => {
    const w = await settled();
    w.clock.advance(60_000);
    const e = write(w, T1, 'new');
    await hint(w, T1);
    const c = counted({ ...w.deps, fullPasses: w.fullPasses });

    expect(await deliverPass(c.deps)).toMatchObject({ delivered: 2, pending: 0 });

    expect(w.sender.idsTo(URL_A)).toEqual([e.id]);
    expect(w.sender.idsTo(URL_B)).toEqual([e.id]);
    expect(c.calls.get('events.read')).toBe(1); // T1 only: T2's hint is at its cursors
  });

  it('events written without a hint update (a crash before the tenant write) are delivered by the next full pass', async () => {
    const w = await settled();
    w.clock.advance(60_000);
    const lost = write(w, T2, 'crash'); // durable, but the collector crashed before writing the hint

    for (let minute = 1; minute < 15; minute++) {
      expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 0 });
      w.clock.advance(60_000);
    }
    expect(w.sender.sent).toHaveLength(0); // hidden by the stale hint until the full pass

    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 1, pending: 0 });
    expect(w.sender.idsTo(URL_A)).toEqual([lost.id]);
    // Delivered once: the pass after the full one has nothing to send.
    w.clock.advance(60_000);
    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 0 });
    expect(w.sender.sent).toHaveLength(1);
  });

  it('a replay that moves a cursor back is delivered by an ordinary pass (hint above the moved cursor)', async () => {
    const w = await settled();
    const [a] = await w.subs.list().then((subs) => subs.filter((s) => s.url === URL_A));
    w.clock.advance(60_000);
    await replaySubscription(w.mgmt, a!.id, { tenants: [T2] });

    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 1, pending: 0 });

    expect(w.sender.idsTo(URL_A)).toHaveLength(1);
    expect(w.sender.idsTo(URL_B)).toHaveLength(0);
  });

  it('a tenant without a hint, or without a cursor of a subscription that wants it, is read', async () => {
    const w = await settled();
    const T3 = '0a1b2c3d-0000-4000-8000-000000000003';
    await w.tenants.upsert(T3, { displayName: 'Three', status: 'active' }); // no cursor, no hint
    const first = write(w, T3, 'x');
    w.clock.advance(60_000);
    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 1 });
    expect(w.sender.idsTo(URL_A)).toEqual([first.id]);
    // The cursor is saved now but the tenant still has no hint (e.g. written by an older collector): read each pass.
    const second = write(w, T3, 'y');
    w.clock.advance(60_000);
    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 1 });
    expect(w.sender.idsTo(URL_A)).toEqual([first.id, second.id]);
  });

  it('a due retry of a tenant whose log is skipped is still sent, without a range read of the log', async () => {
    const w = await settled();
    w.clock.advance(60_000);
    let failing = true;
    w.sender.script(URL_A, () => (failing ? retry() : { kind: 'delivered', status: 200 }));
    const x = write(w, T2, 'X');
    await hint(w, T2);
    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ failed: 1, pending: 1 });
    failing = false;
    w.clock.advance(5000); // the retry is due; T2's hint is at the cursor now
    const c = counted({ ...w.deps, fullPasses: w.fullPasses });

    expect(await deliverPass(c.deps)).toMatchObject({ delivered: 1, pending: 0 });

    expect(w.sender.idsTo(URL_A)).toEqual([x.id]);
    expect(c.calls.get('events.read')).toBe(1); // the head's own read; no range read of the log
  });

  it('a full pass whose reads fail does not count: the next pass is full again', async () => {
    const w = await settled();
    w.clock.advance(FULL_PASS_INTERVAL_MS);
    const lost = write(w, T2, 'crash'); // no hint update
    const failing: DeliverDeps = {
      ...w.deps,
      fullPasses: w.fullPasses,
      events: {
        read: async () => {
          throw new Error('table unavailable');
        },
        cloudEvent: (entry) => w.log.cloudEvent(entry),
        lastSequence: (t) => w.log.lastSequence(t),
      },
    };
    await expect(deliverPass(failing)).rejects.toThrow('table unavailable');
    w.clock.advance(60_000);

    expect(await deliverPass({ ...w.deps, fullPasses: w.fullPasses })).toMatchObject({ delivered: 1 });
    expect(w.sender.idsTo(URL_A)).toEqual([lost.id]);
  });
});

describe('FullPassSchedule', () => {
  it('is due first, then FULL_PASS_INTERVAL_MS after the last full pass started, and after a clock moved back', () => {
    const s = new FullPassSchedule();
    const at = (ms: number) => new Date(Date.parse('2026-11-24T12:00:00.000Z') + ms);
    expect(s.intervalMs).toBe(15 * 60_000);
    expect(s.due(at(0))).toBe(true);
    s.done(at(0));
    expect(s.due(at(FULL_PASS_INTERVAL_MS - 1))).toBe(false);
    expect(s.due(at(FULL_PASS_INTERVAL_MS))).toBe(true);
    expect(s.due(at(-1))).toBe(true);
  });

  it('refuses an interval that is not a positive integer, naming it', () => {
    expect(() => new FullPassSchedule(0)).toThrow('intervalMs');
    expect(() => new FullPassSchedule(1.5)).toThrow('intervalMs');
  });
});
