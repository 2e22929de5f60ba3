/**
 * Telemetry (issue 12) end to end: the real CLI collects from the local stack with
 * APPLICATIONINSIGHTS_CONNECTION_STRING pointing at the Application Insights ingestion stand-in
 * (devstack/appInsights.ts). What the Azure Monitor exporter actually sent is read back: log records whose custom
 * dimensions carry tenantId, runId, event and errorCode as separate attributes (a failing tenant included), the
 * collector's metrics, and no secret or token anywhere in the bytes (the reliability suite's secret scanner).
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../devstack/cli.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import type { SentLogRecord } from '../../devstack/appInsights.js';
import { SecretScanner } from '../../scripts/reliability/secretScanner.js';
import { captureIssuedTokens } from '../../scripts/reliability/simHooks.js';

const OK = '7e000000-0000-4000-8000-00000000000a';
const FAILING = '7e000000-0000-4000-8000-00000000000b';

/**
 * The exporter's own side channels read these from process.env: off, so only the product's telemetry is sent.
 * WEBSITE_SITE_NAME makes the distro see an App Service host, so it does not probe the Azure VM metadata address
 * (169.254.169.254), which this machine must never be sent to (the guard below fails the test if it is).
 */
const QUIET_EXPORTER = {
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: 'true',
  APPLICATION_INSIGHTS_NO_STATSBEAT: 'true',
  APPLICATIONINSIGHTS_SDKSTATS_DISABLED: 'true',
  WEBSITE_SITE_NAME: 'collector-telemetry-test',
};

/** Requests refused by the guard: anything not on loopback. */
const offMachine: string[] = [];
const realRequest = http.request;

/** Refuse (and record) any plain-HTTP request off loopback, e.g. a metadata probe. */
function guardHttp(): void {
  (http as { request: typeof http.request }).request = ((...args: Parameters<typeof http.request>) => {
    const first = args[0] as unknown;
    const host =
      typeof first === 'string' || first instanceof URL
        ? new URL(first).hostname
        : ((first as { hostname?: string; host?: string }).hostname ??
          (first as { host?: string }).host ??
          'localhost');
    if (!/^(127\.|localhost$|\[?::1\]?$)/.test(String(host))) {
      offMachine.push(String(host));
      throw new Error(`test guard: no request off this machine (${String(host)})`);
    }
    return realRequest(...args);
  }) as typeof http.request;
}

describe('telemetry through the Azure Monitor exporter to the ingestion stand-in', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const tokens = new Set<string>();
  const saved: Record<string, string | undefined> = {};
  let collectCode: number;
  let records: SentLogRecord[];

  beforeAll(async () => {
    guardHttp();
    for (const [key, value] of Object.entries(QUIET_EXPORTER)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    stack = await startLocalStack({
      tenants: [
        { tenantId: OK, incidents: 5 },
        { tenantId: FAILING, incidents: 2 },
      ],
      appInsights: true,
    });
    stack.trustInProcess();
    captureIssuedTokens(stack.entra, tokens);
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
    const sim = stack.appInsights;
    if (sim === undefined) throw new Error('the stack started no ingestion stand-in');
    expect((await runCli(['tenants', 'add', OK, '--name', 'Contoso'], env)).code).toBe(0);
    expect((await runCli(['tenants', 'add', FAILING, '--name', 'Fabrikam'], env)).code).toBe(0);
    // The failing tenant's admin removes the app after onboarding: its token request is refused (AADSTS700016…).
    stack.entra.setTenantConsent(FAILING, 'sp_missing');
    // One throttled answer for the healthy tenant: the retry is counted.
    stack.graph.inject({
      match: (r) => r.kind === 'incidents' && r.tenantId === OK,
      status: 429,
      headers: { 'retry-after': '0' },
    });
    sim.requests.length = 0;
    collectCode = (await runCli(['collect'], env)).code;
    records = sim.logRecords();
  });

  afterAll(async () => {
    (http as { request: typeof http.request }).request = realRequest;
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await stack?.stop();
  });

  it('the collection itself is unchanged: one tenant collected, one failed (exit 1)', () => {
    expect(collectCode).toBe(1);
  });

  it('sends only to the Breeze track endpoint, gzip-decoded into envelopes, and nothing off this machine', () => {
    expect(offMachine).toEqual([]);
    const requests = stack.appInsights?.requests ?? [];
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) expect(r.path).toMatch(/^\/v2(\.1)?\/track$/);
    expect(records.length).toBeGreaterThan(0);
  });

  it('every log record carries its fields as separate custom dimensions, never a JSON line', () => {
    for (const r of records) {
      expect(r.properties.event).toBe(r.message);
      expect(r.message).not.toMatch(/^\s*\{/);
      for (const value of Object.values(r.properties)) expect(value).not.toMatch(/^\{"time"/);
    }
    const started = records.find((r) => r.message === 'run.started');
    expect(started?.properties).toMatchObject({ event: 'run.started', level: 'info' });
    const runId = started?.properties.runId;
    expect(runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);

    const collected = records.find((r) => r.message === 'tenant.collected');
    expect(collected?.properties).toMatchObject({ tenantId: OK, runId, source: 'graph' });
    expect(Number(collected?.properties.incidentCount)).toBe(5);

    const failed = records.find((r) => r.message === 'tenant.failed');
    expect(failed?.properties).toMatchObject({ tenantId: FAILING, runId, event: 'tenant.failed', level: 'warn' });
    expect(failed?.properties.errorCode).toMatch(/^AADSTS\d+$/);
    expect(failed?.severityLevel).toBe('Warning');

    const finished = records.find((r) => r.message === 'run.finished');
    expect(finished?.properties).toMatchObject({ runId, tenantsOk: '1', tenantsFailed: '1' });
  });

  it('sends the collector metrics: versions written, outcomes by status and code, checkpoint age, retries', () => {
    const metrics = stack.appInsights?.metrics() ?? [];
    const sum = (name: string, match: Record<string, string>) =>
      metrics
        .filter((m) => m.name === name && Object.entries(match).every(([k, v]) => m.properties[k] === v))
        .reduce((total, m) => total + m.value, 0);
    expect(sum('collector.incident_versions_written', { tenantId: OK, source: 'graph' })).toBe(5);
    expect(sum('collector.tenant_outcomes', { tenantId: OK, status: 'ok', errorCode: 'none' })).toBe(1);
    const fetchedBySeverity = metrics.filter(
      (m) => m.name === 'collector.incidents_fetched' && m.properties.tenantId === OK,
    );
    expect(fetchedBySeverity.reduce((total, m) => total + m.value, 0)).toBe(5);
    for (const m of fetchedBySeverity) expect(m.properties.severity).toMatch(/^[a-z]+$/);
    const failedOutcome = metrics.find(
      (m) => m.name === 'collector.tenant_outcomes' && m.properties.tenantId === FAILING,
    );
    expect(failedOutcome?.properties).toMatchObject({ status: 'failed' });
    expect(failedOutcome?.properties.errorCode).toMatch(/^AADSTS\d+$/);
    const age = metrics.find((m) => m.name === 'collector.checkpoint_age' && m.properties.tenantId === OK);
    expect(age?.value).toBeGreaterThanOrEqual(0);
    expect(sum('collector.http_throttled', { tenantId: OK })).toBe(1);
    expect(sum('collector.http_retries', { tenantId: OK, status: '429' })).toBe(1);
  });

  it('no secret or token is in anything that was sent', () => {
    const scanner = new SecretScanner();
    scanner.add(stack.partnerSecret, 'partner secret');
    scanner.add(env.AZURE_CLIENT_SECRET as string, 'Key Vault reader secret');
    scanner.addAll(tokens, 'token');
    expect(tokens.size).toBeGreaterThan(0);
    const bodies = stack.appInsights?.requests.map((r) => r.body) ?? [];
    scanner.scanAll(bodies, 'telemetry');
    expect(scanner.textsScanned).toBe(bodies.length);
    expect(scanner.hits).toEqual([]);
  });
});

describe('telemetry off', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [{ tenantId: OK, incidents: 2 }], appInsights: true });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('without APPLICATIONINSIGHTS_CONNECTION_STRING a collection sends nothing', async () => {
    const env = { ...stack.env, SYNC_LAG_SECONDS: '0', APPLICATIONINSIGHTS_CONNECTION_STRING: '' };
    expect((await runCli(['tenants', 'add', OK], env)).code).toBe(0);
    const r = await runCli(['collect'], env);
    expect(r.code).toBe(0);
    expect(stack.appInsights?.requests).toEqual([]);
  });
});
