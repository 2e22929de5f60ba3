/**
 * Issue 10: faults found from public reports, each a test that failed before the fix. Real adapters against
 * Azurite and the simulators, driven through the CLI: a server that does not keep the order it promised, optional
 * query features and continuations refused, and poison records that must be quarantined, not stop the tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../shared/config/settings.js';
import { createTableStores } from '../../shared/adapters/tables/tableStores.js';
import type { QuarantinedRecord } from '../../shared/ports.js';
import { startLocalStack, type LocalStack, type SimRequest } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';
import { createAzureCredential, KeyVaultSecretProvider } from '../../shared/adapters/secretProvider.js';
import { answerRewriter } from '../../scripts/reliability/simHooks.js';

const MISORDERED = '1c000000-0000-4000-8000-000000000001';
const EXPAND_504 = '1c000000-0000-4000-8000-000000000002';
const ORDERBY_400 = '1c000000-0000-4000-8000-000000000003';
const CONTINUATION_410 = '1c000000-0000-4000-8000-000000000004';
const MISORDERED_EXPAND = '1c000000-0000-4000-8000-000000000005';
const POISON = '1c000000-0000-4000-8000-000000000006';
const NO_ID = '1c000000-0000-4000-8000-000000000007';
const ZONES = '1c000000-0000-4000-8000-000000000008';
const LEGACY_UNORDERED = '1c000000-0000-4000-8000-000000000009';
const LEGACY_POISON = '1c000000-0000-4000-8000-00000000000a';
const SECRET_NEWLINE = '1c000000-0000-4000-8000-00000000000b';
const SECRET_BOM = '1c000000-0000-4000-8000-00000000000c';
const LONG_NAME = '1c000000-0000-4000-8000-00000000000d';

interface TenantResult {
  tenantId: string;
  status: string;
  incidentsFetched: number;
  incidentsRejected?: number;
  error?: { code: string };
}

describe('faults from public reports (issue 10)', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const legacyEnv = () => ({ ...env, INCIDENT_SOURCE: 'm365d' });

  async function collect(tenantId: string, extraEnv: Record<string, string> = {}): Promise<TenantResult> {
    const run = await runCli(['collect', '--json', '--tenant', tenantId], { ...env, ...extraEnv });
    const result = (JSON.parse(run.stdout) as { tenants: TenantResult[] }).tenants[0];
    if (!result) throw new Error(`no result for ${tenantId}: ${run.stderr}`);
    return result;
  }
  async function stored(tenantId: string): Promise<{ incidentId: string; incident: Record<string, unknown> }[]> {
    return ndjson((await cli('incidents', 'export', '--tenant', tenantId)).stdout) as {
      incidentId: string;
      incident: Record<string, unknown>;
    }[];
  }
  async function tenantRow(tenantId: string): Promise<Record<string, unknown>> {
    const all = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as Record<string, unknown>[];
    return all.find((t) => t.tenantId === tenantId) ?? {};
  }
  async function quarantined(tenantId: string): Promise<QuarantinedRecord[]> {
    const stores = createTableStores(loadSettings(env).storage);
    const rows: QuarantinedRecord[] = [];
    for await (const row of stores.quarantine.list(tenantId)) rows.push(row);
    return rows;
  }
  /** `n` incidents one minute apart, the newest `newestMinutesAgo` minutes old. */
  function seedMinuteApart(tenantId: string, n: number, newestMinutesAgo = 20): void {
    const newest = Date.now() - newestMinutesAgo * 60_000;
    for (let i = n - 1; i >= 0; i--) stack.world.addIncident(tenantId, { lastUpdate: new Date(newest - i * 60_000) });
  }
  const listRequests = (sim: 'graph' | 'legacy', tenantId: string) =>
    stack[sim].requests.filter((r: SimRequest) => r.tenantId === tenantId && r.kind === 'incidents');

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [
        { tenantId: MISORDERED, incidents: 0 },
        { tenantId: EXPAND_504, incidents: 8 },
        { tenantId: ORDERBY_400, incidents: 120 },
        { tenantId: CONTINUATION_410, incidents: 0 },
        { tenantId: MISORDERED_EXPAND, incidents: 0 },
        { tenantId: POISON, incidents: 4 },
        { tenantId: NO_ID, incidents: 4 },
        { tenantId: ZONES, incidents: 4 },
        { tenantId: LEGACY_UNORDERED, incidents: 0 },
        { tenantId: LEGACY_POISON, incidents: 4 },
        { tenantId: SECRET_NEWLINE, incidents: 3 },
        { tenantId: SECRET_BOM, incidents: 3 },
        { tenantId: LONG_NAME, incidents: 3 },
      ],
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
    seedMinuteApart(MISORDERED, 80);
    seedMinuteApart(CONTINUATION_410, 120);
    seedMinuteApart(MISORDERED_EXPAND, 80);
    seedMinuteApart(LEGACY_UNORDERED, 250);
    for (const t of [MISORDERED, EXPAND_504, ORDERBY_400, CONTINUATION_410, MISORDERED_EXPAND, POISON, NO_ID, ZONES])
      expect((await cli('tenants', 'add', t, '--no-verify')).code).toBe(0);
    for (const t of [LEGACY_UNORDERED, LEGACY_POISON])
      expect((await runCli(['tenants', 'add', t, '--no-verify'], legacyEnv())).code).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  describe('§1 the checkpoint never trusts an order it did not verify', () => {
    it('Graph sorts each page but not the query and page 2 fails every attempt: a healthy rerun stores all 80', async () => {
      stack.graph.sortPagesOnly(MISORDERED);
      stack.graph.inject({
        match: (r) => r.tenantId === MISORDERED && r.kind === 'incidents' && Number(r.query.get('$skip') ?? 0) > 0,
        status: 503,
        body: { error: { code: 'ServiceUnavailable', message: 'later' } },
        times: Infinity,
      });
      try {
        const failed = await collect(MISORDERED);
        expect(failed.status).toBe('failed');
        // The first page (the 50 newest) was written, but the checkpoint did not move past the 30 never fetched.
        expect((await tenantRow(MISORDERED)).watermark).toBeNull();
      } finally {
        stack.graph.clearFaults();
      }
      // Healthy rerun (the server still ignores the order across pages).
      const rerun = await collect(MISORDERED);
      expect(rerun.status).toBe('ok');
      expect(await stored(MISORDERED)).toHaveLength(80);
      stack.graph.sortPagesOnly(MISORDERED, false);
    });

    it('(own finding) misordered pages and a failing $expand on page 2: one run, nothing skipped by the fallback', async () => {
      stack.graph.sortPagesOnly(MISORDERED_EXPAND);
      stack.graph.inject({
        match: (r) =>
          r.tenantId === MISORDERED_EXPAND &&
          r.kind === 'incidents' &&
          r.query.get('$expand') === 'alerts' &&
          Number(r.query.get('$skip') ?? 0) > 0,
        status: 500,
        body: { error: { code: 'InternalServerError', message: 'boom' } },
        times: Infinity,
      });
      try {
        const run = await collect(MISORDERED_EXPAND);
        expect(run.status).toBe('ok');
        // Before: the fallback restarted at the highest instant seen (page 1's newest) and never read the older 30.
        expect(await stored(MISORDERED_EXPAND)).toHaveLength(80);
      } finally {
        stack.graph.clearFaults();
        stack.graph.sortPagesOnly(MISORDERED_EXPAND, false);
      }
    });

    it('the legacy API (no order at all) fails after its first full page: a healthy rerun stores all 250', async () => {
      let answered = 0;
      stack.legacy.inject({
        match: (r) => r.tenantId === LEGACY_UNORDERED && r.kind === 'incidents' && ++answered > 1,
        status: 503,
        body: { error: { code: 'ServiceUnavailable', message: 'later' } },
        times: Infinity,
      });
      try {
        expect((await collect(LEGACY_UNORDERED, { INCIDENT_SOURCE: 'm365d' })).status).toBe('failed');
        expect((await tenantRow(LEGACY_UNORDERED)).watermark).toBeNull();
      } finally {
        stack.legacy.clearFaults();
      }
      expect((await collect(LEGACY_UNORDERED, { INCIDENT_SOURCE: 'm365d' })).status).toBe('ok');
      expect(await stored(LEGACY_UNORDERED)).toHaveLength(250);
    });
  });

  describe('§2 recovery keyed on a class of failures', () => {
    it('$expand=alerts answering 504 on every attempt falls back to per-incident alerts', async () => {
      stack.graph.inject({
        match: (r) => r.tenantId === EXPAND_504 && r.query.get('$expand') === 'alerts',
        status: 504,
        body: { error: { code: 'GatewayTimeout', message: 'timeout' } },
        times: Infinity,
      });
      try {
        const run = await collect(EXPAND_504);
        expect(run.status).toBe('ok');
      } finally {
        stack.graph.clearFaults();
      }
      const got = await stored(EXPAND_504);
      expect(got).toHaveLength(8);
      const truth = new Map(stack.world.graphIncidents(EXPAND_504).map((i) => [String(i.id), i]));
      for (const row of got) expect(row.incident).toEqual(truth.get(row.incidentId));
    });

    it('$orderby refused with 400: collected without server ordering, all 120 stored', async () => {
      stack.graph.inject({
        match: (r) => r.tenantId === ORDERBY_400 && r.kind === 'incidents' && r.query.has('$orderby'),
        status: 400,
        body: { error: { code: 'BadRequest', message: "Query option '$orderby' is not allowed." } },
        times: Infinity,
      });
      try {
        const run = await collect(ORDERBY_400);
        expect(run.status).toBe('ok');
      } finally {
        stack.graph.clearFaults();
      }
      expect(await stored(ORDERBY_400)).toHaveLength(120);
      expect(typeof (await tenantRow(ORDERBY_400)).watermark).toBe('string');
    });

    it('(own finding) a continuation refused with 410 (no deep $skip) restarts from what is written', async () => {
      stack.graph.inject({
        match: (r) => r.tenantId === CONTINUATION_410 && r.kind === 'incidents' && r.query.get('$skip') === '50',
        status: 410,
        body: { error: { code: 'Gone', message: 'The continuation is no longer valid.' } },
        times: 1,
      });
      const run = await collect(CONTINUATION_410);
      expect(run.status).toBe('ok');
      expect(await stored(CONTINUATION_410)).toHaveLength(120);
      expect(listRequests('graph', CONTINUATION_410).some((r) => r.status === 410)).toBe(true);
    });
  });

  describe('§3 one bad record never stops the tenant', () => {
    /** Rewrite the tenant's list answers: `change` applied to the incident at `index` of every page. */
    function poison(sim: 'graph' | 'legacy', tenantId: string, change: (item: Record<string, unknown>) => void) {
      // Always the same incident — the newest, so the next run's overlap re-reads it.
      const truth = sim === 'graph' ? stack.world.graphIncidents(tenantId) : stack.world.legacyIncidents(tenantId);
      const idOf = (i: Record<string, unknown>) => String(i.id ?? i.incidentId);
      const timeOf = (i: Record<string, unknown>) => String(i.lastUpdateDateTime ?? i.lastUpdateTime);
      const target = idOf([...truth].sort((a, b) => timeOf(b).localeCompare(timeOf(a)))[0]!);
      answerRewriter(stack[sim]).set((req, answer) => {
        if (req.tenantId !== tenantId || req.kind !== 'incidents' || answer.status !== 200) return answer;
        const body = structuredClone(answer.body) as { value: Record<string, unknown>[] };
        for (const item of body.value) if (idOf(item) === target) change(item);
        return { ...answer, body };
      });
    }

    it('Graph: a null lastUpdateDateTime among four is quarantined once; three stored, checkpoint moves', async () => {
      poison('graph', POISON, (item) => void (item.lastUpdateDateTime = null));
      try {
        const run = await collect(POISON);
        expect(run).toMatchObject({ status: 'ok', incidentsRejected: 1 });
        expect(await stored(POISON)).toHaveLength(3);
        const tenant = await tenantRow(POISON);
        expect(typeof tenant.watermark).toBe('string');
        expect(tenant).toMatchObject({ status: 'active', incidentsRejected: 1, lastErrorCode: null });
        // The overlap re-reads it: counted in the run, kept once.
        expect(await collect(POISON)).toMatchObject({ status: 'ok', incidentsRejected: 1 });
        expect(await tenantRow(POISON)).toMatchObject({ incidentsRejected: 1 });
        const kept = await quarantined(POISON);
        expect(kept).toHaveLength(1);
        expect(kept[0]).toMatchObject({ source: 'graph', reason: "'lastUpdateDateTime' is null" });
        expect(JSON.parse(kept[0]!.raw)).toMatchObject({ lastUpdateDateTime: null });
        expect(kept[0]!.runId).not.toBe('');
      } finally {
        answerRewriter(stack.graph).set(undefined);
      }
    });

    it('Graph: a record without id is quarantined, the others stored', async () => {
      poison('graph', NO_ID, (item) => void delete item.id);
      try {
        expect(await collect(NO_ID)).toMatchObject({ status: 'ok', incidentsRejected: 1 });
        expect(await stored(NO_ID)).toHaveLength(3);
        expect((await quarantined(NO_ID))[0]?.reason).toBe("'id' is missing");
      } finally {
        answerRewriter(stack.graph).set(undefined);
      }
    });

    it('(own finding) an offset timestamp is accepted as UTC; one without a zone is quarantined, never guessed', async () => {
      const items = stack.world.graphIncidents(ZONES).sort((a, b) => String(a.id).localeCompare(String(b.id)));
      const [first, second] = items;
      answerRewriter(stack.graph).set((req, answer) => {
        if (req.tenantId !== ZONES || req.kind !== 'incidents' || answer.status !== 200) return answer;
        const body = structuredClone(answer.body) as { value: Record<string, unknown>[] };
        for (const item of body.value) {
          const utc = String(item.lastUpdateDateTime);
          if (item.id === first?.id) {
            // Same instant, written with a +02:00 offset.
            const shifted = new Date(Date.parse(utc.slice(0, 23) + 'Z') + 2 * 3_600_000).toISOString().slice(0, 19);
            item.lastUpdateDateTime = `${shifted}${utc.slice(19, 27)}+02:00`;
          }
          if (item.id === second?.id) item.lastUpdateDateTime = utc.slice(0, 19);
        }
        return { ...answer, body };
      });
      try {
        expect(await collect(ZONES)).toMatchObject({ status: 'ok', incidentsRejected: 1 });
        const got = await stored(ZONES);
        expect(got.map((r) => r.incidentId).sort()).toEqual(
          items
            .filter((i) => i.id !== second?.id)
            .map((i) => String(i.id))
            .sort(),
        );
        expect((await quarantined(ZONES))[0]?.reason).toMatch(
          /^'lastUpdateDateTime' is not an ISO-8601 instant with a time zone/,
        );
      } finally {
        answerRewriter(stack.graph).set(undefined);
      }
    });

    it('legacy: a null lastUpdateTime among four is quarantined; three stored, checkpoint moves', async () => {
      poison('legacy', LEGACY_POISON, (item) => void (item.lastUpdateTime = null));
      try {
        expect(await collect(LEGACY_POISON, { INCIDENT_SOURCE: 'm365d' })).toMatchObject({
          status: 'ok',
          incidentsRejected: 1,
        });
        expect(await stored(LEGACY_POISON)).toHaveLength(3);
        expect(typeof (await tenantRow(LEGACY_POISON)).watermark).toBe('string');
        expect(await quarantined(LEGACY_POISON)).toMatchObject([
          { source: 'm365d', reason: "'lastUpdateTime' is null" },
        ]);
      } finally {
        answerRewriter(stack.legacy).set(undefined);
      }
    });
  });

  describe('§4 outside values are normalised once, wherever they come from', () => {
    async function withVaultSecret(value: string, body: () => Promise<void>): Promise<void> {
      const name = env.PARTNER_SECRET_NAME as string;
      stack.keyVault.setSecret(name, value);
      try {
        await body();
      } finally {
        stack.keyVault.setSecret(name, stack.partnerSecret);
      }
    }
    async function readThroughProvider(): Promise<{ value: string; warnings: string[] }> {
      const warnings: string[] = [];
      const settings = loadSettings(env);
      const provider = new KeyVaultSecretProvider({
        vaultUrl: settings.keyVaultUrl as string,
        secretName: settings.partnerSecretName,
        credential: createAzureCredential(settings, env),
        logger: {
          info: () => {},
          warn: (event, fields) => void warnings.push(JSON.stringify({ event, ...fields })),
          error: () => {},
        },
      });
      return { value: (await provider.getSecret()).value, warnings };
    }

    it('a Key Vault secret stored with a trailing newline (az … --file) works, and the change is logged', async () => {
      await withVaultSecret(`${stack.partnerSecret}\n`, async () => {
        const added = await cli('tenants', 'add', SECRET_NEWLINE);
        expect(added.stderr).not.toContain('AADSTS7000215');
        expect(added.code).toBe(0);
        expect(await collect(SECRET_NEWLINE)).toMatchObject({ status: 'ok', incidentsFetched: 3 });
        const { value, warnings } = await readThroughProvider();
        expect(value).toBe(stack.partnerSecret);
        expect(warnings.filter((w) => w.includes('"secret.normalised"'))).toHaveLength(1);
        expect(warnings.join('\n')).not.toContain(stack.partnerSecret);
      });
    });

    it('(own finding) a byte-order mark and a Windows line end (CRLF) around the vault value work too', async () => {
      await withVaultSecret(`\uFEFF${stack.partnerSecret}\r\n`, async () => {
        expect((await cli('tenants', 'add', SECRET_BOM)).code).toBe(0);
        expect((await readThroughProvider()).value).toBe(stack.partnerSecret);
      });
    });
  });

  describe('§5 input limits checked at the use-case boundary, before any outside call', () => {
    it('tenants add --name of 40,000 characters: exit 2 naming --name, no token or API call, nothing stored', async () => {
      const tokensBefore = stack.entra.tokenRequests(LONG_NAME).length;
      const graphBefore = listRequests('graph', LONG_NAME).length;
      const run = await cli('tenants', 'add', LONG_NAME, '--name', 'x'.repeat(40_000));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--name must be at most 256 characters');
      expect(stack.entra.tokenRequests(LONG_NAME)).toHaveLength(tokensBefore);
      expect(listRequests('graph', LONG_NAME)).toHaveLength(graphBefore);
      expect(await tenantRow(LONG_NAME)).toEqual({});
    });

    it('(own finding) a name with a line break is refused by tenants add and consent-link alike', async () => {
      const add = await cli('tenants', 'add', LONG_NAME, '--name', 'Contoso\nInjected line', '--no-verify');
      expect(add.code).toBe(2);
      expect(add.stderr).toContain('--name must not contain control characters');
      const link = await cli('consent-link', '--name', 'Contoso\nInjected line');
      expect(link.code).toBe(2);
      expect(link.stderr).toContain('--name must not contain control characters');
      expect(link.stdout).toBe('');
      // 256 characters is the shared limit: accepted by both.
      expect((await cli('tenants', 'add', LONG_NAME, '--name', 'n'.repeat(256), '--no-verify')).code).toBe(0);
      expect((await tenantRow(LONG_NAME)).displayName).toBe('n'.repeat(256));
    });
  });
});
