/**
 * collectTenant (design §4, §6, §7) against in-memory fakes of its ports: no network, a manual clock, scripted
 * pages. Each spec names the rule, then Prepare / Act / Assess.
 */
import { describe, expect, it } from '@jest/globals';
import { ErrorCode } from '../../../shared/domain/errorCodes.js';
import { CollectorError, type FailureKind } from '../../../shared/domain/errors.js';
import { registerSecret } from '../../../shared/log.js';
import type { FetchedIncident, TenantRecord, TenantRunResult, TenantStatus } from '../../../shared/ports.js';
import {
  CHECKPOINT_EVERY_MS,
  collectTenant,
  LEASE_HELD,
  LEASE_LOST,
  LEASE_MS,
  type CollectRequest,
} from '../../../shared/usecases/collectTenant.js';
import { fakeWorld, type PageScript, type ScriptedSourceOptions } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-00000000000a';
const HOUR = 3_600_000;

function incident(id: string, at: string): FetchedIncident {
  return { incidentId: id, lastUpdateTime: at, incident: { id, lastUpdateDateTime: at, status: 'active' } };
}

/** A world with tenant T registered `active` (or as `over` says) and `script` as its pages. */
function world(over: Partial<TenantRecord> = {}, script?: PageScript, source: ScriptedSourceOptions = {}) {
  const w = fakeWorld({ source: { ...source, ...(script ? { scripts: { [T]: script } } : {}) } });
  w.tenants.seed({
    tenantId: T,
    displayName: 'Contoso',
    status: 'active',
    consentedAt: '2026-01-01T00:00:00.000Z',
    statusChangedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  });
  return w;
}

function request(over: Partial<CollectRequest> = {}): CollectRequest {
  return { tenantId: T, runId: 'run-1', owner: 'run:run-1/worker-1', ...over };
}

const transient = (code = 'HTTP_503') =>
  new CollectorError(`Service unavailable (${code}).`, { code, kind: 'transient' });

/** The write and checkpoint entries of the journal, in order. */
const durable = (entries: readonly string[]) => entries.filter((e) => /^(write|checkpoint) /.test(e));

describe('collectTenant: write, then checkpoint', () => {
  it('advances the checkpoint after each page is written, to the value the page names', async () => {
    // Prepare: three pages; the page checkpoint is deliberately below the page's newest incident.
    const w = world(
      {},
      {
        pages: [
          { incidents: [incident('1', '2026-11-24T10:00:00Z')], checkpoint: '2026-11-24T09:59:00Z' },
          { incidents: [incident('2', '2026-11-24T10:30:00Z')], checkpoint: '2026-11-24T10:30:00Z' },
          { incidents: [incident('3', '2026-11-24T11:00:00.1234567Z')], checkpoint: '2026-11-24T11:00:00.1234567Z' },
        ],
      },
    );
    // Each page's write takes a minute (CHECKPOINT_EVERY_MS), so each due checkpoint is written when the next comes.
    w.snapshots.onWrite = () => w.clock.advance(CHECKPOINT_EVERY_MS);

    // Act
    const result = await collectTenant(w, request());

    // Assess
    expect(result).toEqual({ tenantId: T, status: 'ok', incidentsFetched: 3, incidentsChanged: 3, pages: 3 });
    expect(durable(w.journal.entries)).toEqual([
      `write ${T} 1`,
      `checkpoint ${T} 2026-11-24T09:59:00Z`,
      `write ${T} 2`,
      `checkpoint ${T} 2026-11-24T10:30:00Z`,
      `write ${T} 3`,
      `checkpoint ${T} 2026-11-24T11:00:00.1234567Z`,
    ]);
    expect((await w.tenants.get(T))?.checkpoint).toBe('2026-11-24T11:00:00.1234567Z');
  });

  it('does not advance on a page that names no checkpoint (an unfinished unordered slice)', async () => {
    const w = world(
      {},
      {
        pages: [
          { incidents: [incident('1', '2026-11-24T11:00:00Z')] },
          { incidents: [incident('2', '2026-11-24T10:00:00Z')] },
        ],
      },
    );

    const result = await collectTenant(w, request());

    expect(result.status).toBe('ok');
    expect(w.journal.matching('checkpoint ')).toEqual([]);
    expect((await w.tenants.get(T))?.checkpoint).toBeUndefined();
  });

  it('never advances past a failed write, and records the failure on the tenant', async () => {
    // Prepare: the second page's write fails (injected when the source hands that page over).
    const w = world(
      {},
      {
        pages: [
          { incidents: [incident('1', '2026-11-24T10:00:00Z')], checkpoint: '2026-11-24T10:00:00Z' },
          { incidents: [incident('2', '2026-11-24T11:00:00Z')], checkpoint: '2026-11-24T11:00:00Z' },
        ],
      },
    );
    w.snapshots.onWrite = (_t, index) =>
      index === 2 ? w.snapshots.faults.inject('writePage', transient('TABLE_503')) : undefined;

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({ status: 'failed', pages: 2, error: { code: 'TABLE_503', kind: 'transient' } });
    expect(durable(w.journal.entries)).toEqual([`write ${T} 1`, `checkpoint ${T} 2026-11-24T10:00:00Z`]);
    expect(await w.tenants.get(T)).toMatchObject({
      checkpoint: '2026-11-24T10:00:00Z',
      consecutiveFailures: 1,
      lastErrorCode: 'TABLE_503',
    });
  });

  it('keeps the checkpoint of the pages written before the source failed', async () => {
    const w = world(
      {},
      {
        pages: [
          { incidents: [incident('1', '2026-11-24T10:00:00Z')], checkpoint: '2026-11-24T10:00:00Z' },
          { incidents: [incident('2', '2026-11-24T11:00:00Z')], checkpoint: '2026-11-24T11:00:00Z' },
        ],
        failAt: { page: 2, error: transient('HTTP_504') },
      },
    );

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({ status: 'failed', pages: 1, error: { code: 'HTTP_504' } });
    expect(durable(w.journal.entries)).toEqual([`write ${T} 1`, `checkpoint ${T} 2026-11-24T10:00:00Z`]);
  });

  it('never moves the checkpoint backwards when a page names an older value', async () => {
    const w = world(
      { checkpoint: '2026-11-24T11:00:00Z' },
      { pages: [{ incidents: [incident('1', '2026-11-24T10:58:00Z')], checkpoint: '2026-11-24T10:58:00Z' }] },
    );

    await collectTenant(w, request());

    expect((await w.tenants.get(T))?.checkpoint).toBe('2026-11-24T11:00:00Z');
  });

  it('keeps write-then-checkpoint while the next page is fetched ahead (lookahead)', async () => {
    const pages = ['1', '2', '3'].map((id, i) => ({
      incidents: [incident(id, `2026-11-24T1${i}:00:00Z`)],
      checkpoint: `2026-11-24T1${i}:00:00Z`,
    }));
    const w = world({}, { pages });
    w.snapshots.onWrite = () => w.clock.advance(CHECKPOINT_EVERY_MS);

    const result = await collectTenant(w, request());

    expect(result.status).toBe('ok');
    expect(durable(w.journal.entries)).toEqual(
      pages.flatMap((p) => [`write ${T} ${p.incidents[0]?.incidentId}`, `checkpoint ${T} ${p.checkpoint}`]),
    );
  });

  it('writes a due checkpoint only once a minute or 1,000 records passed since the last; the last with the outcome', async () => {
    // Prepare: 12 pages of 100 records, each proving a checkpoint (legacy slices); the clock stands still.
    const pages = Array.from({ length: 12 }, (_, p) => {
      const at = `2026-11-24T10:${String(p).padStart(2, '0')}:00Z`;
      return { incidents: Array.from({ length: 100 }, (_, i) => incident(`${p * 100 + i}`, at)), checkpoint: at };
    });
    const w = world({}, { pages });
    w.snapshots.holdPages = true;

    const result = await collectTenant(w, request());

    // Assess: one checkpoint after 1,000 records (page 10's, written when page 11 came), then the last one with the
    // outcome — instead of one per page.
    expect(result).toMatchObject({ status: 'ok', incidentsChanged: 1200 });
    const checkpoints = durable(w.journal.entries).filter((e) => e.startsWith('checkpoint'));
    expect(checkpoints).toEqual([`checkpoint ${T} 2026-11-24T10:09:00Z`, `checkpoint ${T} 2026-11-24T10:11:00Z`]);
    expect(durable(w.journal.entries).at(-1)).toBe(`checkpoint ${T} 2026-11-24T10:11:00Z`);
  });

  it('holds pages until full, and a failure while rows are held writes neither them nor a checkpoint past them', async () => {
    const pages = [
      {
        incidents: ['1', '2', '3'].map((id) => incident(id, '2026-11-24T10:00:00Z')),
        checkpoint: '2026-11-24T10:00:00Z',
      },
      { incidents: [incident('4', '2026-11-24T10:30:00Z')], checkpoint: '2026-11-24T10:30:00Z' },
    ];
    const w = world({}, { pages, failAt: { page: 3, error: transient('HTTP_504') } });
    w.snapshots.holdPages = true;

    expect(await collectTenant(w, request())).toMatchObject({ status: 'failed', error: { code: 'HTTP_504' } });
    expect(durable(w.journal.entries)).toEqual([]);
    expect((await w.tenants.get(T))?.checkpoint).toBeUndefined();

    // The rerun reads them again and writes each once, then the checkpoint.
    w.source.script(T, { pages });
    expect(await collectTenant(w, request({ runId: 'run-2' }))).toMatchObject({ status: 'ok', incidentsChanged: 4 });
    expect(durable(w.journal.entries)).toEqual([
      `write ${T} 1,2,3`,
      `write ${T} 4`,
      `checkpoint ${T} 2026-11-24T10:30:00Z`,
    ]);
  });

  it('a backfill (since) reads from since, and the checkpoint still never moves backwards', async () => {
    const w = world(
      { checkpoint: '2026-11-24T11:00:00Z' },
      { pages: [{ incidents: [incident('1', '2026-11-01T00:00:00Z')], checkpoint: '2026-11-01T00:00:00Z' }] },
    );

    await collectTenant(w, request({ since: '2026-11-01T00:00:00Z' }));

    expect(w.source.windows[0]?.window.from).toBe('2026-11-01T00:00:00.0000000Z');
    expect(w.snapshots.writes).toHaveLength(1);
    expect((await w.tenants.get(T))?.checkpoint).toBe('2026-11-24T11:00:00Z');
  });

  it('reads the window from the checkpoint minus the overlap up to now minus the lag', async () => {
    const w = world({ checkpoint: '2026-11-24T11:00:00.1234567Z' }, { pages: [] });

    await collectTenant(w, request());

    expect(w.source.windows).toEqual([
      { tenantId: T, window: { from: '2026-11-24T10:55:00.1234567Z', to: '2026-11-24T11:59:00.0000000Z' } },
    ]);
  });
});

describe('collectTenant: the lease', () => {
  it('skips with LEASE_HELD when another worker holds the lease: no token, no read, no write, no settle', async () => {
    const w = world(
      {},
      { pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')], checkpoint: '2026-11-24T10:00:00Z' }] },
    );
    await w.leases.acquire(T, 'run:other/worker-9', LEASE_MS);
    const settled: TenantRunResult[] = [];
    const before = await w.tenants.get(T);

    const result = await collectTenant(w, request({ settle: async (r) => void settled.push(r) }));

    expect(result).toMatchObject({ status: 'skipped', error: { code: LEASE_HELD, kind: 'transient' } });
    expect(w.tokens.calls).toEqual([]);
    expect(w.source.windows).toEqual([]);
    expect(w.snapshots.writes).toEqual([]);
    expect(settled).toEqual([]);
    expect(await w.tenants.get(T)).toEqual(before);
    expect(await w.leases.holder(T)).toBe('run:other/worker-9');
  });

  it('stops with LEASE_LOST once the lease is lost mid-collection, and writes nothing more on the tenant', async () => {
    // Prepare: while page 2 is written the lease expires and another worker takes it over.
    const pages = ['1', '2', '3'].map((id, i) => ({
      incidents: [incident(id, `2026-11-24T1${i}:00:00Z`)],
      checkpoint: `2026-11-24T1${i}:00:00Z`,
    }));
    const w = world({}, { pages });
    w.snapshots.onWrite = async (_t, index) => {
      if (index !== 2) return;
      w.clock.advance(LEASE_MS + 1);
      await w.leases.acquire(T, 'run:run-2/worker-7', LEASE_MS);
    };
    const before = await w.tenants.get(T);
    const settled: TenantRunResult[] = [];

    // Act
    const result = await collectTenant(w, request({ settle: async (r) => void settled.push(r) }));

    // Assess: skipped, not failed; page 3 never written; the tenant row's health columns untouched.
    expect(result).toMatchObject({ status: 'skipped', pages: 2, error: { code: LEASE_LOST } });
    // Page 3 may have been fetched ahead (lookahead) but is never written.
    expect(w.snapshots.writes.map((p) => p.incidentIds)).toEqual([['1'], ['2']]);
    const after = await w.tenants.get(T);
    expect({ ...after, checkpoint: undefined }).toEqual({ ...before, checkpoint: undefined });
    expect(settled).toEqual([]);
    expect(await w.leases.holder(T)).toBe('run:run-2/worker-7');
  });

  it('renews the lease while pages keep coming, so a long collection keeps it', async () => {
    // Prepare: every page takes 6 minutes to write, more than half the lease.
    const pages = ['1', '2', '3'].map((id) => ({ incidents: [incident(id, '2026-11-24T10:00:00Z')] }));
    const w = world({}, { pages });
    w.snapshots.onWrite = async () => {
      w.clock.advance(6 * 60_000);
      expect(await w.leases.acquire(T, 'run:run-2/worker-7', LEASE_MS)).toBeUndefined();
    };

    const result = await collectTenant(w, request());

    expect(result.status).toBe('ok');
    expect(await w.leases.holder(T)).toBeUndefined(); // released at the end
  });

  it('calls settle with the outcome while the lease is still held, then releases it', async () => {
    const w = world({}, { pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')] }] });
    const seen: { holder: string | undefined; result: TenantRunResult }[] = [];

    const result = await collectTenant(
      w,
      request({ settle: async (r) => void seen.push({ holder: await w.leases.holder(T), result: r }) }),
    );

    expect(seen).toEqual([{ holder: 'run:run-1/worker-1', result }]);
    expect(await w.leases.holder(T)).toBeUndefined();
  });

  it('settles failures too, and an error thrown by settle propagates after the lease is released', async () => {
    const w = world({}, { pages: [] });
    w.tokens.failsWith(T, 'transient', 'AADSTS50033');
    const seen: TenantRunResult[] = [];
    await collectTenant(w, request({ settle: async (r) => void seen.push(r) }));
    expect(seen).toMatchObject([{ status: 'failed', error: { code: 'AADSTS50033' } }]);

    await expect(
      collectTenant(
        w,
        request({
          settle: async () => {
            throw new Error('run store down');
          },
        }),
      ),
    ).rejects.toThrow('run store down');
    expect(await w.leases.holder(T)).toBeUndefined();
  });
});

describe('collectTenant: which tenants are collected (design §4)', () => {
  const cases: [TenantStatus, 'collected' | 'skipped'][] = [
    ['active', 'collected'],
    ['failing', 'collected'],
    ['credential_error', 'collected'],
    ['disabled', 'skipped'],
    ['pending_consent', 'skipped'],
    ['consent_revoked', 'skipped'],
    ['missing_permissions', 'skipped'],
  ];
  it.each(cases)('status %s (changed an hour ago): %s', async (status, expected) => {
    const w = world(
      { status, statusChangedAt: new Date(Date.parse('2026-11-24T12:00:00Z') - HOUR).toISOString() },
      {
        pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')] }],
      },
    );

    const result = await collectTenant(w, request());

    if (expected === 'collected') {
      expect(result.status).toBe('ok');
      expect(w.snapshots.writes).toHaveLength(1);
    } else {
      expect(result).toEqual({ tenantId: T, status: 'skipped', incidentsFetched: 0, incidentsChanged: 0, pages: 0 });
      expect(w.tokens.calls).toEqual([]);
      expect(w.source.probes).toEqual([]);
      expect(w.snapshots.writes).toEqual([]);
    }
  });

  it('never re-probes a disabled tenant, however long ago it was disabled', async () => {
    const w = world({ status: 'disabled', statusChangedAt: '2020-01-01T00:00:00Z' }, { pages: [] });

    expect((await collectTenant(w, request())).status).toBe('skipped');
    expect(w.source.probes).toEqual([]);
  });

  it('an unregistered tenant fails with TENANT_NOT_FOUND and nothing is created', async () => {
    const w = fakeWorld();

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({ status: 'failed', error: { code: ErrorCode.TENANT_NOT_FOUND, kind: 'permanent' } });
    expect(await w.tenants.get(T)).toBeUndefined();
  });
});

describe('collectTenant: re-probing skipped tenants every REPROBE_HOURS', () => {
  it('re-probes once REPROBE_HOURS passed since the status changed; success makes it active and collects now', async () => {
    // Prepare: revoked 6 hours ago (REPROBE_HOURS is 6 in the test settings).
    const w = world(
      { status: 'consent_revoked', statusChangedAt: '2026-11-24T06:00:00.000Z', lastErrorCode: 'AADSTS65001' },
      { pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')], checkpoint: '2026-11-24T10:00:00Z' }] },
    );

    const result = await collectTenant(w, request());

    expect(w.source.probes).toEqual([T]);
    expect(result.status).toBe('ok');
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'active',
      statusChangedAt: '2026-11-24T12:00:00.000Z',
      lastProbeAt: '2026-11-24T12:00:00.000Z',
      lastSuccessAt: '2026-11-24T12:00:00.000Z',
      checkpoint: '2026-11-24T10:00:00Z',
      consecutiveFailures: 0,
    });
    expect((await w.tenants.get(T))?.lastErrorCode).toBeUndefined();
  });

  it('a failed re-probe keeps the status, notes the probe, and the next probe waits REPROBE_HOURS from it', async () => {
    const w = world({ status: 'missing_permissions', statusChangedAt: '2026-11-24T05:00:00.000Z' }, { pages: [] });
    w.tokens.failsWith(T, 'missing_permissions', 'TOKEN_ROLE_MISSING');

    // Act 1: due (7 hours), the probe fails.
    const first = await collectTenant(w, request());
    expect(first).toMatchObject({
      status: 'skipped',
      error: { code: 'TOKEN_ROLE_MISSING', kind: 'missing_permissions' },
    });
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'missing_permissions',
      statusChangedAt: '2026-11-24T05:00:00.000Z',
      lastProbeAt: '2026-11-24T12:00:00.000Z',
      lastErrorCode: 'TOKEN_ROLE_MISSING',
      consecutiveFailures: 0,
    });
    expect(w.source.windows).toEqual([]);

    // Act 2: 5 h 59 min later: not due (counted from the last probe).
    w.clock.advance(6 * HOUR - 60_000);
    expect(await collectTenant(w, request({ runId: 'run-2' }))).toMatchObject({ status: 'skipped' });
    expect(w.tokens.calls).toEqual([T]);

    // Act 3: at 6 hours the probe runs again; it now succeeds.
    w.clock.advance(60_000);
    w.tokens.succeeds(T);
    expect((await collectTenant(w, request({ runId: 'run-3' }))).status).toBe('ok');
    expect((await w.tenants.get(T))?.status).toBe('active');
  });
});

describe('collectTenant: failures are classified and recorded on the tenant (design §7)', () => {
  const kinds: [FailureKind, string, TenantStatus][] = [
    ['consent_revoked', 'AADSTS65001', 'consent_revoked'],
    ['missing_permissions', 'TOKEN_ROLE_MISSING', 'missing_permissions'],
    ['credential_error', 'AADSTS7000215', 'credential_error'],
    ['credential_error', 'TOKEN_TENANT_MISMATCH', 'credential_error'],
  ];
  it.each(kinds)('a %s token failure (%s) sets the tenant %s and writes nothing', async (kind, code, status) => {
    const w = world({}, { pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')] }] });
    w.tokens.failsWith(T, kind, code);

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({ status: 'failed', error: { code, kind } });
    expect(w.source.windows).toEqual([]); // checked before anything is fetched
    expect(w.snapshots.writes).toEqual([]);
    expect(await w.tenants.get(T)).toMatchObject({
      status,
      statusChangedAt: '2026-11-24T12:00:00.000Z',
      lastErrorCode: code,
      lastRunAt: '2026-11-24T12:00:00.000Z',
      consecutiveFailures: 1,
    });
  });

  it('a tenant becomes failing after 3 runs in a row failed transiently; retries within one run count once', async () => {
    const w = world({}, { pages: [], failAt: { page: 1, error: transient('HTTP_503') } });

    await collectTenant(w, request({ runId: 'run-1' }));
    await collectTenant(w, request({ runId: 'run-1' })); // a queue retry of the same run
    await collectTenant(w, request({ runId: 'run-2' }));
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'active',
      consecutiveFailures: 2,
      lastFailedRunId: 'run-2',
    });

    await collectTenant(w, request({ runId: 'run-3' }));
    expect(await w.tenants.get(T)).toMatchObject({
      status: 'failing',
      consecutiveFailures: 3,
      lastErrorCode: 'HTTP_503',
    });
  });

  it('a failing tenant is still collected and a success returns it to active with the failures cleared', async () => {
    const w = world(
      {
        status: 'failing',
        consecutiveFailures: 4,
        lastErrorCode: 'HTTP_503',
        lastError: 'x',
        lastFailedRunId: 'run-0',
      },
      { pages: [{ incidents: [incident('1', '2026-11-24T10:00:00Z')] }] },
    );

    expect((await collectTenant(w, request())).status).toBe('ok');

    const after = await w.tenants.get(T);
    expect(after).toMatchObject({
      status: 'active',
      consecutiveFailures: 0,
      lastSuccessAt: '2026-11-24T12:00:00.000Z',
    });
    expect(after?.lastErrorCode).toBeUndefined();
    expect(after?.lastFailedRunId).toBeUndefined();
  });

  it('an unexpected error is a permanent INTERNAL failure, its message redacted in the result and on the tenant', async () => {
    const secret = 'client-secret-value-0123456789';
    registerSecret(secret);
    const w = world({}, { pages: [], failAt: { page: 1, error: new TypeError(`boom ${secret}`) } });

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({
      status: 'failed',
      error: { code: ErrorCode.INTERNAL, kind: 'permanent', message: 'TypeError: boom [redacted-secret]' },
    });
    expect((await w.tenants.get(T))?.lastError).toBe('TypeError: boom [redacted-secret]');
  });

  it('when recording the failure fails too, the run result still carries the failure', async () => {
    const w = world({}, { pages: [], failAt: { page: 1, error: transient('HTTP_503') } });
    w.tenants.faults.inject('update', transient('TABLE_503'));

    const result = await collectTenant(w, request());

    expect(result).toMatchObject({ status: 'failed', error: { code: 'HTTP_503' } });
    expect(w.logger.names()).toContain('tenant.record_failure_failed');
  });
});
