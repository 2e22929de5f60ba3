/**
 * The run counter shards against Azurite: many queue workers (two store instances: two processes, as far as the
 * stores can tell) record one run's tenants at once; each slot counts once, the run completes exactly when every
 * slot is settled, and the 412s the shards leave stay few. Also: a redelivered slot from another process, a run
 * whose summary row carries settled bits from before the shards, and listings that never show a shard as a run.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PipelinePolicy } from '@azure/core-rest-pipeline';
import {
  RUN_COUNTER_SHARDS,
  runPartition,
  shardRowKey,
  TableRunStore,
} from '../../../shared/adapters/tables/runStore.js';
import { createTableStores, type TableStores } from '../../../shared/adapters/tables/tableStores.js';
import { withSlotSettled } from '../../../shared/domain/runSlots.js';
import { mapBounded } from '../../../shared/lib/bounded.js';
import type { RunRecord, TenantRunResult } from '../../../shared/ports.js';
import { finishRunIfComplete } from '../../../shared/usecases/queueWorker.js';
import { newTenantId, startTables, type TableFixture } from './tableFixture.js';

/** Responses by status for the Runs table. */
const statuses = new Map<number, number>();
const statusPolicy: PipelinePolicy = {
  name: 'runStatuses',
  sendRequest: async (request, next) => {
    const count = (status: number | undefined): void => {
      if (new URL(request.url).pathname.includes('Runs'))
        statuses.set(status ?? 0, (statuses.get(status ?? 0) ?? 0) + 1);
    };
    try {
      const response = await next(request);
      count(response.status);
      return response;
    } catch (error) {
      count((error as { statusCode?: number }).statusCode);
      throw error;
    }
  },
};

let fx: TableFixture;
/** A second worker process. */
let other: TableStores;

beforeAll(async () => {
  fx = await startTables({ additionalPolicies: [{ policy: statusPolicy, position: 'perCall' }] });
  other = createTableStores(
    { kind: 'connectionString', connectionString: fx.azurite.connectionString },
    { additionalPolicies: [{ policy: statusPolicy, position: 'perCall' }] },
  );
});

afterAll(async () => {
  await fx?.stop();
});

const startedAt = '2026-11-25T08:00:00.000Z';
const clock = { now: () => new Date('2026-11-25T09:00:00.000Z') };
const logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function newRun(tenantsPlanned: number): RunRecord {
  return {
    runId: `run-${newTenantId().slice(0, 8)}`,
    startedAt,
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

const outcome = (status: TenantRunResult['status'], fetched = 3): TenantRunResult => ({
  tenantId: newTenantId(),
  status,
  incidentsFetched: fetched,
  incidentsChanged: 1,
  pages: 1,
});

describe('run counter shards', () => {
  it('200 concurrent outcomes from two processes (48 at a time each) count once each and complete the run once', async () => {
    const run = newRun(200);
    await fx.stores.runs.create(run);
    statuses.clear();
    const finishedBy: boolean[] = [];
    const record = async (slot: number): Promise<boolean> => {
      const runs = (slot >> 4) % 2 === 0 ? fx.stores.runs : other.runs;
      const counted = await runs.recordTenant(run.runId, startedAt, outcome(slot % 10 === 0 ? 'failed' : 'ok'), slot);
      finishedBy.push(await finishRunIfComplete({ runs, clock, logger }, run.runId, startedAt));
      return counted;
    };
    const slots = Array.from({ length: 200 }, (_, slot) => slot);
    // Slots 0–15 to one process, 16–31 to the other, …: both processes write every shard row.
    const halves = [slots.filter((s) => (s >> 4) % 2 === 0), slots.filter((s) => (s >> 4) % 2 === 1)];
    const counted = (await Promise.all(halves.map((half) => mapBounded(half, 48, record)))).flat();

    expect(counted.every(Boolean)).toBe(true);
    // Every worker checks completion after its own write: at least one saw the last count (two may both see it).
    expect(finishedBy.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    const stored = await fx.stores.runs.get(run.runId, startedAt);
    expect(stored).toMatchObject({
      tenantsOk: 180,
      tenantsFailed: 20,
      incidentsFetched: 600,
      pages: 200,
      finishedAt: clock.now().toISOString(),
    });
    // Each process writes a shard one outcome at a time: only the two processes contend on a shard row.
    const conflicts = statuses.get(412) ?? 0;
    process.stderr.write(
      `[runs] 200 outcomes, 2 processes × 48: ${conflicts} × 412, statuses ${JSON.stringify([...statuses])}\n`,
    );
    expect(conflicts).toBeLessThanOrEqual(200);
    // The summary row carries the totals once finished; readers no longer add the shards.
    const summary = await fx.stores.clients.client('runs').getEntity(runPartition(startedAt), run.runId);
    expect(summary).toMatchObject({ tenantsOk: 180, tenantsFailed: 20, countersFolded: true });
    expect((await other.runs.recent(200)).filter((r) => r.runId === run.runId)).toEqual([stored]);
    expect(await other.runs.lastFinished()).toEqual(stored);
  });

  it('a slot redelivered to another process is counted once, and an unfinished run shows its progress', async () => {
    const run = newRun(3);
    await fx.stores.runs.create(run);
    expect(await fx.stores.runs.recordTenant(run.runId, startedAt, outcome('ok'), 5)).toBe(true);
    expect(await other.runs.isSettled(run.runId, startedAt, 5)).toBe(true);
    expect(await other.runs.recordTenant(run.runId, startedAt, outcome('failed'), 5)).toBe(false);
    expect(await other.runs.recordDeadLetter(run.runId, startedAt, 5)).toBe(false);
    expect(await fx.stores.runs.recordTenant(run.runId, startedAt, outcome('ok'), 5)).toBe(false);
    expect(await finishRunIfComplete({ runs: other.runs, clock, logger }, run.runId, startedAt)).toBe(false);
    const progress = (await other.runs.recent(200)).filter((r) => r.runId === run.runId);
    expect(progress).toEqual([{ ...run, tenantsOk: 1, incidentsFetched: 3, incidentsChanged: 1, pages: 1 }]);
  });

  it('a run whose summary row holds settled bits from before the shards keeps them', async () => {
    const run = newRun(4);
    const table = fx.stores.clients.client('runs');
    // The pre-shard layout: slots 3 and 19 (both of shard 3) counted on the summary row.
    await table.createEntity({
      partitionKey: runPartition(startedAt),
      rowKey: run.runId,
      startedAt,
      finishedAt: '',
      trigger: run.trigger,
      tenantsPlanned: run.tenantsPlanned,
      tenantsOk: 2,
      settledSlots: withSlotSettled(withSlotSettled(undefined, 3), 19),
    });
    const fresh = new TableRunStore(fx.stores.clients);
    expect(await fresh.isSettled(run.runId, startedAt, 19)).toBe(true);
    expect(await fresh.recordTenant(run.runId, startedAt, outcome('ok'), 19)).toBe(false);
    expect(await fresh.recordTenant(run.runId, startedAt, outcome('ok'), 3 + RUN_COUNTER_SHARDS * 2)).toBe(true);
    expect(await fresh.recordTenant(run.runId, startedAt, outcome('ok'), 3)).toBe(false);
    expect(await fresh.isSettled(run.runId, startedAt, 3)).toBe(true);
    await table.getEntity(runPartition(startedAt), shardRowKey(run.runId, 3));
    expect(await finishRunIfComplete({ runs: fresh, clock, logger }, run.runId, startedAt)).toBe(false);
    expect(await fresh.recordDeadLetter(run.runId, startedAt, 0)).toBe(true);
    expect(await finishRunIfComplete({ runs: fresh, clock, logger }, run.runId, startedAt)).toBe(true);
    expect(await fresh.get(run.runId, startedAt)).toMatchObject({
      tenantsOk: 3,
      deadLetters: 1,
      finishedAt: expect.any(String),
    });
  });
});
