import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NotFoundError } from '../../../shared/domain/errors.js';
import { stateKey } from '../../../shared/adapters/tables/consentStateStore.js';
import { runPartition, shardRowKey } from '../../../shared/adapters/tables/runStore.js';
import type { Clock, TenantRunResult } from '../../../shared/ports.js';
import { newTenantId, startTables, type TableFixture } from './tableFixture.js';

/** A clock the tests move by hand (lease expiry, run dates). */
const now = { value: new Date('2026-11-24T12:00:00.000Z') };
const clock: Clock = { now: () => new Date(now.value) };

let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ clock });
});

afterAll(async () => {
  await fx?.stop();
});

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe('TableTenantStore', () => {
  it('upsert creates, merges, stores the ID lower case and never touches the checkpoint (column watermark)', async () => {
    const id = newTenantId().toUpperCase();
    const created = await fx.stores.tenants.upsert(id, { displayName: 'Contoso', status: 'active' });
    expect(created).toMatchObject({
      tenantId: id.toLowerCase(),
      displayName: 'Contoso',
      status: 'active',
      consecutiveFailures: 0,
    });
    expect(created.checkpoint).toBeUndefined();

    await fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T10:00:00.1234567Z');
    const merged = await fx.stores.tenants.upsert(id, {
      status: 'failing',
      consecutiveFailures: 3,
      lastErrorCode: 'HTTP_503',
      ...({ watermark: '1999-01-01T00:00:00Z', checkpoint: '1999-01-01T00:00:00Z' } as object),
    });
    expect(merged).toMatchObject({
      displayName: 'Contoso',
      status: 'failing',
      consecutiveFailures: 3,
      lastErrorCode: 'HTTP_503',
      checkpoint: '2026-11-20T10:00:00.1234567Z',
    });

    const cleared = await fx.stores.tenants.update(id, {
      lastErrorCode: '',
      lastError: '',
      statusChangedAt: '2026-11-24T00:00:00Z',
    });
    expect(cleared.lastErrorCode).toBeUndefined();
    expect(cleared.statusChangedAt).toBe('2026-11-24T00:00:00Z');
    expect((await fx.stores.tenants.list()).some((t) => t.tenantId === id.toLowerCase())).toBe(true);
    expect(() => JSON.stringify(cleared)).not.toThrow();
  });

  it('update and advanceCheckpoint of a missing tenant throw NotFoundError; delete is idempotent', async () => {
    const id = newTenantId();
    await expect(fx.stores.tenants.update(id, { status: 'active' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T00:00:00Z')).rejects.toBeInstanceOf(NotFoundError);
    expect(await fx.stores.tenants.get(id)).toBeUndefined();
    await fx.stores.tenants.upsert(id, { displayName: 'x' });
    await fx.stores.tenants.delete(id);
    await fx.stores.tenants.delete(id);
    expect(await fx.stores.tenants.get(id)).toBeUndefined();
  });

  it('advanceCheckpoint never moves backwards, comparing full precision as instants', async () => {
    const id = newTenantId();
    await fx.stores.tenants.upsert(id, { displayName: 'x', status: 'active' });
    expect(await fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T10:00:00.29Z')).toBe('2026-11-20T10:00:00.29Z');
    expect(await fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T10:00:00.2899999Z')).toBe(
      '2026-11-20T10:00:00.29Z',
    );
    expect(await fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T11:00:00.29+01:00')).toBe(
      '2026-11-20T10:00:00.29Z',
    );
    expect(await fx.stores.tenants.advanceCheckpoint(id, '2026-11-20T10:00:00.2900001Z')).toBe(
      '2026-11-20T10:00:00.2900001Z',
    );
  });

  it('many concurrent advances with shuffled values end at the maximum', async () => {
    const id = newTenantId();
    await fx.stores.tenants.upsert(id, { displayName: 'x', status: 'active' });
    const values = Array.from(
      { length: 30 },
      (_, i) => `2026-11-20T10:00:${String(i).padStart(2, '0')}.${String(i * 7).padStart(7, '0')}Z`,
    );
    await Promise.all(shuffled(values, 42).map((v) => fx.stores.tenants.advanceCheckpoint(id, v)));
    expect((await fx.stores.tenants.get(id))?.checkpoint).toBe(values[values.length - 1]);
  });
});

describe('TableLeaseStore', () => {
  it('of 20 concurrent acquires for one tenant exactly one wins', async () => {
    const id = newTenantId();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fx.stores.leases.acquire(id, `worker-${i}`, 60_000)),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it('an expired lease is taken over by exactly one of 20 racers; the old owner can no longer renew or release it', async () => {
    const id = newTenantId();
    const first = await fx.stores.leases.acquire(id, 'old', 1_000);
    expect(first).toBeDefined();
    expect(await fx.stores.leases.acquire(id, 'other', 1_000)).toBeUndefined();
    now.value = new Date(now.value.getTime() + 5_000);
    const racers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fx.stores.leases.acquire(id, `new-${i}`, 60_000)),
    );
    const winners = racers.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect(await fx.stores.leases.renew(first!, 60_000)).toBeUndefined();
    await fx.stores.leases.release(first!);
    expect(await fx.stores.leases.acquire(id, 'late', 60_000)).toBeUndefined();

    const renewed = await fx.stores.leases.renew(winners[0]!, 120_000);
    expect(renewed?.expiresAt).toBe(new Date(now.value.getTime() + 120_000).toISOString());
    await fx.stores.leases.release(renewed!);
    expect(await fx.stores.leases.acquire(id, 'after-release', 60_000)).toBeDefined();
    expect(await fx.stores.leases.holder(id)).toBe('after-release');
    now.value = new Date(now.value.getTime() + 61_000);
    expect(await fx.stores.leases.holder(id)).toBeUndefined();
    expect(await fx.stores.leases.holder(newTenantId())).toBeUndefined();
  });
});

describe('TableRunStore', () => {
  const result = (status: TenantRunResult['status'], n: number): TenantRunResult => ({
    tenantId: newTenantId(),
    status,
    incidentsFetched: n,
    incidentsChanged: 1,
    pages: 2,
  });

  it('concurrent recordTenant calls never lose an increment', async () => {
    const startedAt = now.value.toISOString();
    await fx.stores.runs.create({
      runId: 'run-concurrent',
      startedAt,
      trigger: 'cli',
      tenantsPlanned: 20,
      tenantsOk: 0,
      tenantsFailed: 0,
      tenantsSkipped: 0,
      incidentsFetched: 0,
      incidentsChanged: 0,
      pages: 0,
      deadLetters: 0,
    });
    const results = Array.from({ length: 20 }, (_, i) =>
      result(i % 4 === 0 ? 'failed' : i % 5 === 1 ? 'skipped' : 'ok', i),
    );
    await Promise.all([
      ...results.map((r) => fx.stores.runs.recordTenant('run-concurrent', startedAt, r)),
      fx.stores.runs.recordDeadLetter('run-concurrent', startedAt),
    ]);
    const run = await fx.stores.runs.get('run-concurrent', startedAt);
    expect(run).toMatchObject({
      tenantsOk: results.filter((r) => r.status === 'ok').length,
      tenantsFailed: results.filter((r) => r.status === 'failed').length,
      tenantsSkipped: results.filter((r) => r.status === 'skipped').length,
      incidentsFetched: 190,
      incidentsChanged: 20,
      pages: 40,
      deadLetters: 1,
    });
    expect(run?.finishedAt).toBeUndefined();
    // The outcomes live in the run's counter shard rows until finish folds the totals into the summary row.
    const runs = fx.stores.clients.client('runs');
    expect((await runs.getEntity(runPartition(startedAt), 'run-concurrent')).tenantsOk).toBe(0);
    await fx.stores.runs.finish('run-concurrent', startedAt, now.value.toISOString());
    const row = await runs.getEntity(runPartition(startedAt), 'run-concurrent');
    expect(row).toMatchObject({ tenantsOk: run?.tenantsOk, deadLetters: 1, pages: 40, countersFolded: true });
    expect(await fx.stores.runs.get('run-concurrent', startedAt)).toMatchObject({
      ...run,
      finishedAt: expect.any(String),
    });
  });

  it('counts a slot once, even when racing deliveries record it at the same time', async () => {
    const startedAt = now.value.toISOString();
    await fx.stores.runs.create({
      runId: 'run-slots',
      startedAt,
      trigger: 'schedule',
      tenantsPlanned: 3,
      tenantsOk: 0,
      tenantsFailed: 0,
      tenantsSkipped: 0,
      incidentsFetched: 0,
      incidentsChanged: 0,
      pages: 0,
      deadLetters: 0,
    });
    // Slot 700 is bit 43 of shard 12 (700 mod 16): that shard's column grows to 6 bytes, lower bits stay unset.
    const outcomes = await Promise.all([
      ...Array.from({ length: 8 }, () => fx.stores.runs.recordTenant('run-slots', startedAt, result('ok', 5), 700)),
      fx.stores.runs.recordTenant('run-slots', startedAt, result('failed', 0), 1),
    ]);
    expect(outcomes.slice(0, 8).filter(Boolean)).toHaveLength(1);
    expect(outcomes[8]).toBe(true);
    expect(await fx.stores.runs.recordDeadLetter('run-slots', startedAt, 700)).toBe(false);
    expect(await fx.stores.runs.recordDeadLetter('run-slots', startedAt, 2)).toBe(true);
    expect(await fx.stores.runs.recordTenant('run-slots', startedAt, result('ok', 5), 2)).toBe(false);
    expect(await fx.stores.runs.get('run-slots', startedAt)).toMatchObject({
      tenantsOk: 1,
      tenantsFailed: 1,
      deadLetters: 1,
      incidentsFetched: 5,
      pages: 4,
    });
    expect(
      await Promise.all([0, 1, 2, 3, 699, 700, 701].map((s) => fx.stores.runs.isSettled('run-slots', startedAt, s))),
    ).toEqual([false, true, true, false, false, true, false]);
    const runs = fx.stores.clients.client('runs');
    const shard = await runs.getEntity<{ settledSlots: Uint8Array }>(
      runPartition(startedAt),
      shardRowKey('run-slots', 12),
    );
    expect(shard.settledSlots).toHaveLength(6);
    expect((await runs.getEntity(runPartition(startedAt), 'run-slots')).settledSlots).toBeUndefined();
    await expect(fx.stores.runs.isSettled('no-such-run', startedAt, 0)).rejects.toMatchObject({
      code: 'TABLE_RUN_NOT_FOUND',
    });

    // A hand-edited column of the wrong type is refused, never overwritten with a single bit.
    await fx.stores.clients
      .client('runs')
      .updateEntity({ partitionKey: runPartition(startedAt), rowKey: 'run-slots', settledSlots: 'AQI=' }, 'Merge');
    await expect(fx.stores.runs.recordTenant('run-slots', startedAt, result('ok', 1), 5)).rejects.toMatchObject({
      code: 'TABLE_RUN_CORRUPT',
    });
    expect((await fx.stores.runs.get('run-slots', startedAt))?.tenantsOk).toBe(1);
  });

  it('lastFinished returns the most recently finished run across today and yesterday', async () => {
    // Its own days, more than LOOKBACK_DAYS after the runs the other tests start (2026-11-24), and the clock put
    // back afterwards: the answer cannot depend on which tests ran before or after this one.
    const saved = now.value;
    now.value = new Date('2026-12-02T00:30:00.000Z');
    try {
      await lastFinishedAcrossMidnight();
    } finally {
      now.value = saved;
    }
  });

  async function lastFinishedAcrossMidnight(): Promise<void> {
    const base = {
      trigger: 'schedule',
      tenantsPlanned: 1,
      tenantsOk: 1,
      tenantsFailed: 0,
      tenantsSkipped: 0,
      incidentsFetched: 0,
      incidentsChanged: 0,
      pages: 0,
      deadLetters: 0,
    };
    await fx.stores.runs.create({ ...base, runId: 'yesterday', startedAt: '2026-12-01T23:00:00.000Z' });
    await fx.stores.runs.finish('yesterday', '2026-12-01T23:00:00.000Z', '2026-12-01T23:05:00.000Z');
    await fx.stores.runs.create({ ...base, runId: 'today-unfinished', startedAt: '2026-12-02T00:10:00.000Z' });
    expect((await fx.stores.runs.lastFinished())?.runId).toBe('yesterday');
    await fx.stores.runs.finish('today-unfinished', '2026-12-02T00:10:00.000Z', '2026-12-02T00:20:00.000Z');
    expect(await fx.stores.runs.lastFinished()).toMatchObject({
      runId: 'today-unfinished',
      finishedAt: '2026-12-02T00:20:00.000Z',
    });
  }
});

describe('TableConsentStateStore', () => {
  it('of 20 concurrent consumes exactly one gets the record; the table holds only the hash', async () => {
    const state = 'st-' + 'x'.repeat(40);
    await fx.stores.consentStates.save(state, {
      tenantId: newTenantId(),
      createdAt: '2026-11-24T00:00:00Z',
      expiresAt: '2026-11-25T00:00:00Z',
    });
    const rows = [];
    for await (const row of fx.stores.clients.client('consentStates').listEntities()) rows.push(row);
    expect(JSON.stringify(rows, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(state);
    expect(rows.map((r) => r.rowKey)).toContain(stateKey(state));

    const results = await Promise.all(Array.from({ length: 20 }, () => fx.stores.consentStates.consume(state)));
    const winners = results.filter((r) => r !== undefined);
    expect(winners).toHaveLength(1);
    expect(winners[0]).toMatchObject({ createdAt: '2026-11-24T00:00:00Z', expiresAt: '2026-11-25T00:00:00Z' });
    expect(await fx.stores.consentStates.consume(state)).toBeUndefined();
    expect(await fx.stores.consentStates.consume('never-saved')).toBeUndefined();
  });

  it('deleteExpired deletes only states expired before now, at most `limit` per call', async () => {
    const expired = ['old-a', 'old-b', 'old-c'];
    for (const [i, state] of expired.entries())
      await fx.stores.consentStates.save(state, {
        createdAt: '2026-11-01T00:00:00Z',
        expiresAt: `2026-11-02T00:00:0${i}Z`,
      });
    await fx.stores.consentStates.save('live', {
      createdAt: '2026-11-24T00:00:00Z',
      expiresAt: '2026-11-25T00:00:00Z',
    });
    const now = '2026-11-24T12:00:00.000Z';
    expect(await fx.stores.consentStates.deleteExpired(now, 2)).toBe(2);
    expect(await fx.stores.consentStates.deleteExpired(now, 10)).toBe(1);
    expect(await fx.stores.consentStates.deleteExpired(now, 10)).toBe(0);
    for (const state of expired) expect(await fx.stores.consentStates.consume(state)).toBeUndefined();
    expect(await fx.stores.consentStates.consume('live')).toMatchObject({ expiresAt: '2026-11-25T00:00:00Z' });
  });
});
