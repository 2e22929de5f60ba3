/**
 * The delivery hint on Azurite (design §9, usecases/deliver.ts): a collection records its highest event sequence on
 * the tenant row (`Tenants.eventSequence`, a Double above Int32's range) in its final tenant write; an idle pass then
 * costs 2 + S Table queries (counted on the wire), a full pass 2 + S + T; events written without a hint update
 * (a crash before the tenant write) go with the next full pass; a hint above a cursor, or a replay moving a cursor
 * back, is read by the next ordinary pass. The real table adapters throughout; the source and the receiver are the
 * unit fakes (the tables are what is under test).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TableSubscriptionSecrets } from '../../../shared/adapters/delivery/tableSubscriptionSecrets.js';
import type { FetchedIncident, IncidentPage } from '../../../shared/ports.js';
import { collectTenant } from '../../../shared/usecases/collectTenant.js';
import {
  deliverPass,
  FULL_PASS_INTERVAL_MS,
  FullPassSchedule,
  type DeliverDeps,
} from '../../../shared/usecases/deliver.js';
import { addSubscription, replaySubscription, type SubscriptionDeps } from '../../../shared/usecases/subscriptions.js';
import { fakeWorld, ManualClock, RecordingLogger, ScriptedWebhookSender } from '../../fakes/index.js';
import { createRequestCounter } from './requestCounter.js';
import { fetched, graphIncident, newTenantId, startTables, type TableFixture } from './tableFixture.js';

const URL_A = 'https://a.example/hook';
const clock = new ManualClock('2026-11-24T12:00:00.000Z');
const counter = createRequestCounter();
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ clock, additionalPolicies: counter.additionalPolicies });
});

afterAll(async () => {
  await fx?.stop();
});

describe('delivery hints on Azurite', () => {
  const T1 = newTenantId();
  const T2 = newTenantId();
  const pages = new Map<string, IncidentPage[]>();
  const world = fakeWorld({
    start: clock.iso(),
    source: {
      scripts: {
        [T1]: { pages: () => pages.get(T1) ?? [] },
        [T2]: { pages: () => pages.get(T2) ?? [] },
      },
    },
  });
  const sender = new ScriptedWebhookSender();
  const fullPasses = new FullPassSchedule();
  let deps: DeliverDeps;
  let mgmt: SubscriptionDeps;
  let subscriptionId: string;
  let run = 0;

  const incident = (id: string, minute: number): FetchedIncident =>
    fetched(graphIncident(id, `2026-11-24T10:${String(minute).padStart(2, '0')}:00.1234567Z`, 800));
  /** One collection of `tenantId` through collectTenant over the real Tenants/Leases/IncidentHistory tables. */
  const collectNow = async (tenantId: string, incidents: FetchedIncident[]) => {
    pages.set(tenantId, [{ incidents }]);
    const runId = `run-${++run}`;
    const collectDeps = {
      ...world,
      clock,
      tenants: fx.stores.tenants,
      leases: fx.stores.leases,
      snapshots: fx.stores.snapshots,
    };
    const result = await collectTenant(collectDeps, { tenantId, runId, owner: `run:${runId}/w` });
    expect(result.status).toBe('ok');
  };
  /** One pass with the timer's schedule, its Table round trips counted by kind. */
  const pass = async () => {
    counter.reset();
    const report = await deliverPass({ ...deps, fullPasses });
    return { report, total: counter.total, byKind: Object.fromEntries(counter.byKind) };
  };

  beforeAll(async () => {
    for (const t of [T1, T2]) await fx.stores.tenants.upsert(t, { displayName: t, status: 'active' });
    const secrets = new TableSubscriptionSecrets(fx.stores.clients);
    const common = {
      subscriptions: fx.stores.subscriptions,
      state: fx.stores.deliveryState,
      secrets,
      events: fx.stores.events,
      tenants: fx.stores.tenants,
      clock,
      logger: new RecordingLogger(),
    };
    mgmt = { ...common, redact: () => undefined };
    deps = {
      ...common,
      leases: fx.stores.leases,
      webhook: sender,
      retrySchedule: [5, 300],
      timeoutSeconds: 15,
    };
    subscriptionId = (await addSubscription(mgmt, { url: URL_A })).id;
  });

  it('a collection records its highest event sequence on the tenant row, as a number that reads back exactly', async () => {
    await collectNow(T1, [incident('1', 1), incident('2', 2)]);
    await collectNow(T2, [incident('3', 3)]);

    for (const t of [T1, T2]) {
      const last = await fx.stores.events.lastSequence(t);
      expect(last).toBeGreaterThan(2 ** 31); // microsecond-based: stored as a Double, not an Int32
      expect((await fx.stores.tenants.get(t))?.eventSequence).toBe(last);
    }
  });

  it('the first pass is full and delivers; an idle pass then costs 2 + S queries, a full pass 2 + S + T', async () => {
    const first = await pass();
    expect(first.report).toMatchObject({ delivered: 3, pending: 0 });

    clock.advance(60_000);
    const idle = await pass();
    expect(idle.report).toMatchObject({ delivered: 0, pending: 0 });
    expect(idle.byKind).toEqual({ 'GET Subscriptions': 1, 'GET Tenants': 1, 'GET DeliveryState': 1 });
    expect(idle.total).toBe(2 + 1);

    clock.advance(FULL_PASS_INTERVAL_MS);
    const full = await pass();
    expect(full.report).toMatchObject({ delivered: 0, pending: 0 });
    expect(full.byKind).toEqual({
      'GET Subscriptions': 1,
      'GET Tenants': 1,
      'GET DeliveryState': 1,
      'GET IncidentHistory': 2,
    });
    expect(full.total).toBe(2 + 1 + 2);
    process.stderr.write(`[tables] delivery pass, S=1 T=2: idle ${idle.total}, full ${full.total} round trips\n`);
  });

  it('a hint above the cursor is read at once: the next ordinary pass delivers the new version', async () => {
    clock.advance(60_000);
    await collectNow(T1, [incident('1', 20)]);
    clock.advance(60_000);

    const next = await pass();

    expect(next.report).toMatchObject({ delivered: 1, pending: 0 });
    expect(next.byKind['GET IncidentHistory']).toBeGreaterThanOrEqual(1); // T1's range read (+ the CloudEvent's)
    expect(sender.idsTo(URL_A).at(-1)).toContain('/1/2026-11-24T10:20:00.1234567Z');
  });

  it('events written without a hint update (a crash before the tenant write) go with the next full pass', async () => {
    const hintBefore = (await fx.stores.tenants.get(T2))?.eventSequence;
    // The collector's page write only: the collection crashed before its final tenant write.
    expect((await fx.stores.snapshots.writePage(T2, 'graph', [incident('4', 30)])).changed).toBe(1);
    expect((await fx.stores.tenants.get(T2))?.eventSequence).toBe(hintBefore);
    const sentBefore = sender.sent.length;

    clock.advance(60_000);
    const ordinary = await pass();
    expect(ordinary.report).toMatchObject({ delivered: 0 });
    expect(ordinary.total).toBe(2 + 1);
    expect(sender.sent.length).toBe(sentBefore);

    clock.advance(FULL_PASS_INTERVAL_MS);
    const full = await pass();
    expect(full.report).toMatchObject({ delivered: 1, pending: 0 });
    expect(sender.idsTo(URL_A).at(-1)).toContain('/4/2026-11-24T10:30:00.1234567Z');
  });

  it('a replay that moves a cursor back is delivered by the next ordinary pass', async () => {
    clock.advance(60_000);
    await replaySubscription(mgmt, subscriptionId, { tenants: [T2] });
    const sentBefore = sender.idsTo(URL_A).length;

    const next = await pass();

    // T2's two events again, in order; T1 is not read (its hint is at its cursor).
    expect(next.report).toMatchObject({ delivered: 2, pending: 0 });
    expect(
      sender
        .idsTo(URL_A)
        .slice(sentBefore)
        .map((id) => id.split('/')[1]),
    ).toEqual(['3', '4']);
  });
});
