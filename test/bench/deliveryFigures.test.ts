import { describe, expect, it } from '@jest/globals';
import {
  DELIVERY_PASSES_PER_FULL_PASS,
  DELIVERY_PASSES_PER_MONTH,
  HOURS_PER_MONTH,
  idlePassSteps,
  monthlyDeliveryCost,
  PRICES,
} from '../../scripts/bench/costModel.js';
import { deliveryVersusCollectionRow, splitRoundTrips } from '../../scripts/bench/workloads/delivery.js';

describe('splitRoundTrips', () => {
  it('tells pass-level queries, event reads, pair queries, cursor and pending writes and leases apart', () => {
    // One pass, one subscription, 3 tenants with 10 events each.
    const split = splitRoundTrips(
      {
        'GET Subscriptions': 1,
        'GET Tenants': 1,
        'GET DeliveryState': 4,
        'GET IncidentHistory (event rows)': 3,
        'GET IncidentHistory': 60,
        'POST DeliveryState': 2,
        'PATCH DeliveryState': 1,
        'PUT DeliveryState': 2,
        'DELETE DeliveryState': 1,
        'POST Leases': 3,
        'DELETE Leases': 3,
        'GET Secrets': 1,
      },
      1,
      1,
    );
    expect(split).toEqual({
      passLists: 3,
      eventLog: 3,
      eventReads: 60,
      pairQuery: 3,
      cursor: 3,
      pending: 3,
      lease: 6,
      other: 1,
    });
  });

  it('never counts more partition queries than there were DeliveryState reads', () => {
    expect(splitRoundTrips({ 'GET DeliveryState': 1 }, 2, 1)).toMatchObject({ passLists: 1, pairQuery: 0 });
  });
});

describe('monthly delivery cost', () => {
  const input = {
    tenants: 200,
    subscriptions: 1,
    idlePassRoundTrips: 3,
    idlePassWallMs: 30,
    fullPassRoundTrips: 203,
    fullPassWallMs: 280,
    roundTripsPerEvent: 2,
    roundTripsPerPair: 4,
    wallMsPerEvent: 10,
    eventsPerTenantPerHour: 2.5,
    tenantsWithEventsShare: 5 / 6,
    instanceMemoryMB: 2048,
  };
  const line = (item: string) => monthlyDeliveryCost(input).find((l) => l.item.startsWith(item));

  it('counts one timer execution a minute and 2 + S queries per pass, + T (1,000) every 15th pass', () => {
    expect(DELIVERY_PASSES_PER_MONTH).toBe(60 * HOURS_PER_MONTH);
    expect(DELIVERY_PASSES_PER_FULL_PASS).toBe(15);
    expect(line('deliverEvents executions')?.quantity).toBe(DELIVERY_PASSES_PER_MONTH);
    const perPass = 3 + 1_000 / 15;
    expect(line('Table transactions of idle passes')?.quantity).toBeCloseTo(DELIVERY_PASSES_PER_MONTH * perPass, 3);
    expect(line('Table transactions of idle passes')?.usd).toBeCloseTo(
      ((DELIVERY_PASSES_PER_MONTH * perPass) / 1e4) * PRICES.tableTransactions.usd,
      6,
    );
  });

  it('scales the tenants an ordinary pass still reads (no hint, missing cursor) to 1,000 tenants', () => {
    // 10 of 200 tenants still read by an ordinary pass: 50 of 1,000.
    const some = monthlyDeliveryCost({ ...input, idlePassRoundTrips: 13 });
    const perPass = 3 + (1_000 + 50 * 14) / 15;
    expect(some.find((l) => l.item.startsWith('Table transactions of idle'))?.quantity).toBeCloseTo(
      DELIVERY_PASSES_PER_MONTH * perPass,
      3,
    );
  });

  it('prices the webhook operations per event and per tenant with events', () => {
    const events = 1_000 * 2.5 * HOURS_PER_MONTH;
    const pairs = 1_000 * (5 / 6) * HOURS_PER_MONTH;
    expect(line('Table transactions of webhook delivery')?.quantity).toBeCloseTo(events * 2 + pairs * 4, 3);
  });

  it('scales the full pass wall time by the round trips it waits in a row, and bills the passes with the sending time', () => {
    expect(idlePassSteps(1, 200)).toBe(2 + 1 + 25);
    expect(idlePassSteps(1, 1_000)).toBe(2 + 1 + 125);
    const idleMs = ((280 * 128) / 28 + 30 * 14) / 15;
    const events = 1_000 * 2.5 * HOURS_PER_MONTH;
    expect(line('deliverEvents GB-seconds')?.quantity).toBeCloseTo(
      ((DELIVERY_PASSES_PER_MONTH * idleMs + events * 10) / 1000) * 2,
      3,
    );
  });

  it('refuses an input without a measured idle pass or full pass', () => {
    expect(() => monthlyDeliveryCost({ ...input, idlePassRoundTrips: 0 })).toThrow(RangeError);
    expect(() => monthlyDeliveryCost({ ...input, fullPassRoundTrips: 3 })).toThrow(RangeError);
  });
});

describe('delivery versus collection', () => {
  it('compares Table transactions and dollars, leaving the Logs Ingestion sink out of the collection', () => {
    const collection = [
      { item: 'Table transactions', quantity: 1e6, unit: 'transactions', usd: 1 },
      { item: 'Functions executions', quantity: 1e6, unit: 'executions', usd: 1 },
      { item: 'Logs Ingestion (sink on)', quantity: 10, unit: 'GB', usd: 23 },
    ];
    const delivery = [
      { item: 'Table transactions of idle passes', quantity: 5e6, unit: 'transactions', usd: 5 },
      { item: 'Table transactions of webhook delivery', quantity: 1e6, unit: 'transactions', usd: 1 },
    ];
    const row = deliveryVersusCollectionRow(collection, delivery);
    expect(row.value).toBe('6.0× / 3.0×');
    expect(row.raw).toBeCloseTo(3, 9);
  });
});
