/** The RunStore behaviours the queue worker and the run relies on: counters, slots counted once, missing runs. */
import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '../../shared/domain/errorCodes.js';
import type { RunRecord, RunStore, TenantRunResult } from '../../shared/ports.js';
import type { ManualClock } from '../fakes/clock.js';
import { newRunId } from './ids.js';

function run(runId: string, startedAt: string, tenantsPlanned = 3): RunRecord {
  return {
    runId,
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

function result(status: TenantRunResult['status'], n: number): TenantRunResult {
  return { tenantId: 'x', status, incidentsFetched: n, incidentsChanged: n - 1, pages: 1 };
}

/** Register the RunStore contract's tests; `setup` returns the store and the manual clock it reads dates from. */
export function runStoreContract(name: string, setup: () => { store: RunStore; clock: ManualClock }): void {
  describe(`RunStore contract: ${name}`, () => {
    it('creates a run once (a second create keeps the first row) and reads it back', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt, 3));
      await store.create(run(id, startedAt, 99));
      expect(await store.get(id, startedAt)).toEqual(run(id, startedAt, 3));
      expect(await store.get(newRunId(), startedAt)).toBeUndefined();
    });

    it('recordTenants adds several outcomes and counts at once, exactly as recordTenant one by one', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt));
      await store.recordTenants(id, startedAt, [result('ok', 5), result('ok', 1), result('failed', 2)]);
      await store.recordTenants(id, startedAt, []);
      await store.recordTenants(id, startedAt, [result('skipped', 1)]);
      expect(await store.get(id, startedAt)).toMatchObject({
        tenantsOk: 2,
        tenantsFailed: 1,
        tenantsSkipped: 1,
        incidentsFetched: 9,
        incidentsChanged: 5,
        pages: 4,
      });
      await expect(store.recordTenants(newRunId(), startedAt, [result('ok', 1)])).rejects.toMatchObject({
        code: ErrorCode.TABLE_RUN_NOT_FOUND,
      });
    });

    it('recordTenant adds the outcome and the counts; recordDeadLetter counts a dead letter', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt));
      expect(await store.recordTenant(id, startedAt, result('ok', 5))).toBe(true);
      expect(await store.recordTenant(id, startedAt, result('failed', 2))).toBe(true);
      expect(await store.recordTenant(id, startedAt, result('skipped', 1))).toBe(true);
      expect(await store.recordDeadLetter(id, startedAt)).toBe(true);
      expect(await store.get(id, startedAt)).toMatchObject({
        tenantsOk: 1,
        tenantsFailed: 1,
        tenantsSkipped: 1,
        deadLetters: 1,
        incidentsFetched: 8,
        incidentsChanged: 5,
        pages: 3,
      });
    });

    it('concurrent recordTenant calls never lose an increment', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt, 6));
      await Promise.all(Array.from({ length: 6 }, () => store.recordTenant(id, startedAt, result('ok', 1))));
      expect((await store.get(id, startedAt))?.tenantsOk).toBe(6);
    });

    it('a slot is counted once: a second result or a dead letter for it changes nothing and answers false', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt));
      expect(await store.isSettled(id, startedAt, 2)).toBe(false);
      expect(await store.recordTenant(id, startedAt, result('ok', 4), 2)).toBe(true);
      expect(await store.isSettled(id, startedAt, 2)).toBe(true);
      expect(await store.isSettled(id, startedAt, 1)).toBe(false);
      expect(await store.recordTenant(id, startedAt, result('failed', 4), 2)).toBe(false);
      expect(await store.recordDeadLetter(id, startedAt, 2)).toBe(false);
      expect(await store.recordDeadLetter(id, startedAt, 1)).toBe(true);
      expect(await store.get(id, startedAt)).toMatchObject({
        tenantsOk: 1,
        tenantsFailed: 0,
        deadLetters: 1,
        pages: 1,
      });
    });

    it('racing results for one slot count it exactly once', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt));
      const counted = await Promise.all(
        Array.from({ length: 5 }, () => store.recordTenant(id, startedAt, result('ok', 1), 7)),
      );
      expect(counted.filter(Boolean)).toHaveLength(1);
      expect((await store.get(id, startedAt))?.tenantsOk).toBe(1);
    });

    it('markCredentialFailure notes the refused credential code on the run, keeping its counters', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      await store.create(run(id, startedAt, 3));
      const refused: TenantRunResult = {
        tenantId: 'x',
        status: 'failed',
        incidentsFetched: 0,
        incidentsChanged: 0,
        pages: 0,
        error: { code: 'AADSTS7000215', message: 'refused', kind: 'credential_error' },
      };
      await store.recordTenant(id, startedAt, refused, 0);
      expect((await store.get(id, startedAt))?.credentialFailure).toBeUndefined();
      await store.markCredentialFailure(id, startedAt, 'AADSTS7000215');
      await store.recordTenant(id, startedAt, refused, 1);
      expect(await store.get(id, startedAt)).toEqual({
        ...run(id, startedAt, 3),
        tenantsFailed: 2,
        credentialFailure: 'AADSTS7000215',
      });
      await expect(store.markCredentialFailure(newRunId(), startedAt, 'AADSTS7000215')).rejects.toMatchObject({
        name: 'NotFoundError',
        code: ErrorCode.TABLE_RUN_NOT_FOUND,
      });
    });

    it('a missing run is NotFoundError TABLE_RUN_NOT_FOUND for recording, settling and finishing', async () => {
      const { store, clock } = setup();
      const id = newRunId();
      const startedAt = clock.iso();
      const notFound = { name: 'NotFoundError', code: ErrorCode.TABLE_RUN_NOT_FOUND };
      await expect(store.recordTenant(id, startedAt, result('ok', 1))).rejects.toMatchObject(notFound);
      await expect(store.recordDeadLetter(id, startedAt, 0)).rejects.toMatchObject(notFound);
      await expect(store.isSettled(id, startedAt, 0)).rejects.toMatchObject(notFound);
      await expect(store.finish(id, startedAt, startedAt)).rejects.toMatchObject(notFound);
      expect(await store.get(id, startedAt)).toBeUndefined();
    });

    it('lastFinished returns the most recently finished run of the last days, ignoring unfinished ones', async () => {
      const { store, clock } = setup();
      // Far from every other test's runs, which the lookback must not see.
      clock.advance(400 * 86_400_000);
      const yesterday = new Date(clock.now().getTime() - 86_400_000).toISOString();
      const today = clock.iso();
      const [a, b, c] = [newRunId(), newRunId(), newRunId()];
      await store.create(run(a, yesterday));
      await store.finish(a, yesterday, new Date(Date.parse(yesterday) + 60_000).toISOString());
      expect((await store.lastFinished())?.runId).toBe(a);
      await store.create(run(b, today));
      await store.create(run(c, today));
      await store.finish(b, today, new Date(Date.parse(today) + 1_000).toISOString());
      expect(await store.lastFinished()).toMatchObject({
        runId: b,
        finishedAt: new Date(Date.parse(today) + 1_000).toISOString(),
      });
      clock.advance(8 * 86_400_000);
      expect(await store.lastFinished()).toBeUndefined();
    });

    it('recent lists the newest runs of the last 7 days first, finished or not, and refuses a bad limit', async () => {
      const { store, clock } = setup();
      // Far from every other test's runs, which the lookback must not see.
      clock.advance(800 * 86_400_000);
      const at = (msAgo: number) => new Date(clock.now().getTime() - msAgo).toISOString();
      const old = newRunId();
      await store.create(run(old, at(8 * 86_400_000)));
      const ids = [newRunId(), newRunId(), newRunId(), newRunId()];
      const starts = [at(3 * 86_400_000), at(86_400_000 + 5_000), at(60_000), at(1_000)];
      for (const [i, id] of ids.entries()) await store.create(run(id, starts[i] as string));
      await store.finish(ids[1] as string, starts[1] as string, at(86_400_000));

      const all = await store.recent(50);
      expect(all.map((r) => r.runId)).toEqual([ids[3], ids[2], ids[1], ids[0]]);
      expect(all[2]).toMatchObject({ finishedAt: at(86_400_000), tenantsPlanned: 3 });
      expect((await store.recent(2)).map((r) => r.runId)).toEqual([ids[3], ids[2]]);
      expect((await store.recent(3)).map((r) => r.runId)).toEqual([ids[3], ids[2], ids[1]]);
      for (const bad of [0, 201, 1.5, Number.NaN])
        await expect(store.recent(bad)).rejects.toMatchObject({ name: 'InputError', field: 'limit' });
    });
  });
}
