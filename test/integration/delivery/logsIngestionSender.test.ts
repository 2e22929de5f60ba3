/**
 * The Log Analytics sink against the Logs Ingestion simulator, through the real @azure/monitor-ingestion client
 * and a real @azure/identity credential talking to the Entra simulator: rows as design §9 names them, gzip, the
 * token audience, throttling then success, outages and partial failures as ONE retry outcome, a bad rule named.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ClientSecretCredential } from '@azure/identity';
import { createLogsIngestionSender } from '../../../shared/adapters/delivery/logsIngestionSender.js';
import { loadSettings } from '../../../shared/config/settings.js';
import type { IncidentCloudEvent, LogAnalyticsTarget } from '../../../shared/ports.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';

const TENANT = '11a00000-0000-4000-8000-000000000001';

/** An event as the event log builds it (design §9), with an incident of about `padBytes` bytes. */
function event(n: number, padBytes = 0): IncidentCloudEvent {
  const lastUpdateTime = `2026-11-0${1 + (n % 9)}T10:00:00.${String(n).padStart(3, '0')}Z`;
  const incident = {
    id: String(n),
    displayName: `Incident ${n}`,
    severity: n % 2 === 0 ? 'high' : 'medium',
    status: 'active',
    lastUpdateDateTime: lastUpdateTime,
    alerts: [{ id: `da${n}`, title: 'alert' }],
    ...(padBytes > 0 ? { description: 'x'.repeat(padBytes) } : {}),
  };
  const updated = n % 3 === 0;
  return {
    specversion: '1.0',
    id: `${TENANT}/${n}/${lastUpdateTime}`,
    source: `/tenants/${TENANT}`,
    type: updated ? 'incident.updated' : 'incident.created',
    subject: `incidents/${n}`,
    time: '2026-11-29T12:00:00.000Z',
    datacontenttype: 'application/json',
    data: {
      tenantId: TENANT,
      incidentId: String(n),
      lastUpdateTime,
      source: 'graph',
      sequence: n,
      severity: incident.severity,
      status: incident.status,
      title: incident.displayName,
      ...(updated ? { changedFields: ['status'], previous: { status: 'new' } } : {}),
      incident,
    },
  };
}

describe('createLogsIngestionSender against the Logs Ingestion simulator', () => {
  let stack: LocalStack;
  let credential: ClientSecretCredential;
  let target: LogAnalyticsTarget;

  beforeAll(async () => {
    stack = await startLocalStack({ azurite: false, tenants: [] });
    stack.trustInProcess();
    credential = new ClientSecretCredential(
      stack.env.AZURE_TENANT_ID ?? '',
      stack.env.AZURE_CLIENT_ID ?? '',
      stack.env.AZURE_CLIENT_SECRET ?? '',
      { authorityHost: stack.entra.url, disableInstanceDiscovery: true },
    );
    target = stack.logAnalytics;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  beforeEach(() => {
    stack.logsIngestion.clearFaults();
  });

  const sender = (extra: Partial<Parameters<typeof createLogsIngestionSender>[0]> = {}) =>
    createLogsIngestionSender({
      settings: { cloud: 'public', authorityHost: stack.entra.url, isMicrosoftAuthority: false },
      credential,
      retryDelayInMs: 10,
      ...extra,
    });
  const uploadRequests = () => stack.logsIngestion.requests.filter((r) => r.kind === 'upload');

  it('sends every event as one gzip-encoded row per design §9, with a token for https://monitor.azure.com', async () => {
    const events = [event(1), event(3)];
    const before = stack.logsIngestion.rows(target.ruleId, target.stream).length;

    const outcome = await sender().send(target, events);

    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
    const rows = stack.logsIngestion.rows(target.ruleId, target.stream).slice(before);
    expect(rows).toEqual([
      {
        TimeGenerated: '2026-11-29T12:00:00.000Z',
        TenantId: TENANT,
        IncidentId: '1',
        LastUpdateTime: events[0]?.data.lastUpdateTime,
        Source: 'graph',
        EventType: 'incident.created',
        Severity: 'medium',
        Status: 'active',
        Title: 'Incident 1',
        Incident: events[0]?.data.incident,
      },
      {
        TimeGenerated: '2026-11-29T12:00:00.000Z',
        TenantId: TENANT,
        IncidentId: '3',
        LastUpdateTime: events[1]?.data.lastUpdateTime,
        Source: 'graph',
        EventType: 'incident.updated',
        Severity: 'medium',
        Status: 'active',
        Title: 'Incident 3',
        ChangedFields: ['status'],
        Incident: events[1]?.data.incident,
      },
    ]);
    const upload = stack.logsIngestion.uploads.at(-1);
    expect(upload).toMatchObject({
      ruleId: target.ruleId,
      stream: target.stream,
      rowCount: 2,
      gzip: true,
      status: 204,
    });
    expect(stack.logsIngestion.requests.at(-1)?.query.get('api-version')).toBe('2023-01-01');
    expect(stack.entra.tokenRequests(stack.env.AZURE_TENANT_ID).map((r) => r.scope)).toContain(
      'https://monitor.azure.com/.default',
    );
  });

  it("builds the collector's identity from the settings when no credential is given (AZURE_CLIENT_ID/SECRET here)", async () => {
    const settings = loadSettings({ ...stack.env, AzureWebJobsStorage: 'UseDevelopmentStorage=true' });

    const outcome = await createLogsIngestionSender({ settings, env: stack.env }).send(target, [event(2)]);

    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
    expect(stack.logsIngestion.rows(target.ruleId, target.stream).at(-1)).toMatchObject({ IncidentId: '2' });
  });

  it('waits out a 429 Retry-After inside the call and then delivers', async () => {
    stack.logsIngestion.throttle(1, 1);
    const calls = uploadRequests().length;

    const outcome = await sender().send(target, [event(4)]);

    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
    expect(
      uploadRequests()
        .slice(calls)
        .map((r) => r.status),
    ).toEqual([429, 204]);
  });

  it('reports a Retry-After longer than the call may wait as retry HTTP_429, without waiting for it', async () => {
    stack.logsIngestion.throttle(1, 3600);
    const calls = uploadRequests().length;

    const outcome = await sender({ maxRetryAfterMs: 5_000 }).send(target, [event(5)]);

    expect(outcome).toMatchObject({ kind: 'retry', code: 'HTTP_429', status: 429 });
    expect(outcome.kind === 'retry' && outcome.message).toContain('Retry-After 3600 s');
    expect(
      uploadRequests()
        .slice(calls)
        .map((r) => r.status),
    ).toEqual([429]);
  });

  it('turns a 5xx that outlasts the SDK retries into retry HTTP_503', async () => {
    stack.logsIngestion.failNext(2, 503);
    const calls = uploadRequests().length;

    const outcome = await sender({ maxRetries: 1 }).send(target, [event(6)]);

    expect(outcome).toMatchObject({ kind: 'retry', code: 'HTTP_503', status: 503 });
    expect(
      uploadRequests()
        .slice(calls)
        .map((r) => r.status),
    ).toEqual([503, 503]);
  });

  it('makes a partial failure (one chunk of two refused) a retry of the whole call; the resend delivers all', async () => {
    // ~1.4 MB of rows: the SDK splits them into two chunks under 1 MB; the second chunk's call fails.
    const events = Array.from({ length: 14 }, (_, i) => event(100 + i, 100_000));
    const before = stack.logsIngestion.rows(target.ruleId, target.stream).length;
    let seen = 0;
    stack.logsIngestion.inject({
      match: (r) => r.kind === 'upload' && ++seen === 2,
      status: 500,
      body: { error: { code: 'InternalServerError', message: 'boom' } },
    });

    const first = await sender({ maxRetries: 0, maxConcurrency: 1 }).send(target, events);

    expect(first).toMatchObject({ kind: 'retry', code: 'HTTP_500', status: 500 });
    expect(first.kind === 'retry' && first.message).toMatch(/\(\d+ of 14 rows refused; all will be sent again\)/);
    const partial = stack.logsIngestion.rows(target.ruleId, target.stream).slice(before);
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(14);

    const second = await sender({ maxRetries: 0, maxConcurrency: 1 }).send(target, events);

    expect(second).toEqual({ kind: 'delivered', status: 204 });
    const all = stack.logsIngestion.rows(target.ruleId, target.stream).slice(before);
    // At least once: every incident arrived; the first chunk twice.
    expect(new Set(all.map((r) => r.IncidentId))).toEqual(new Set(events.map((e) => e.data.incidentId)));
    expect(all.length).toBe(partial.length + 14);
  });

  it('names a bad rule in a retry outcome (HTTP_404 NotFound), without SDK retries and without the token', async () => {
    const calls = uploadRequests().length;

    const outcome = await sender().send({ ...target, ruleId: 'dcr-00000000000000000000000000000000' }, [event(7)]);

    expect(outcome).toMatchObject({ kind: 'retry', code: 'HTTP_404', status: 404 });
    expect(outcome.kind === 'retry' && outcome.message).toContain('dcr-00000000000000000000000000000000');
    expect(outcome.kind === 'retry' && outcome.message).toContain('NotFound');
    expect(
      uploadRequests()
        .slice(calls)
        .map((r) => r.status),
    ).toEqual([404]);
    const token = (await credential.getToken('https://monitor.azure.com/.default'))?.token ?? '';
    expect(token.length).toBeGreaterThan(20);
    expect(JSON.stringify(outcome)).not.toContain(token);
  });

  it('is refused for an unknown stream and for a token of another audience', async () => {
    const stream = await sender().send({ ...target, stream: 'Custom-Other_CL' }, [event(8)]);
    expect(stream).toMatchObject({ kind: 'retry', code: 'HTTP_404' });
    expect(stream.kind === 'retry' && stream.message).toContain('InvalidStream');

    const audience = await sender({ audience: 'https://monitor.azure.us' }).send(target, [event(8)]);
    expect(audience).toMatchObject({ kind: 'retry', code: 'HTTP_403', status: 403 });
    expect(audience.kind === 'retry' && audience.message).toContain('InvalidAuthenticationTokenAudience');
  });

  it('is refused (403) for an identity without Monitoring Metrics Publisher on the rule', async () => {
    stack.logsIngestion.addRule('dcr-11111111111111111111111111111111', [target.stream], ['not-the-collector']);

    const outcome = await sender().send({ ...target, ruleId: 'dcr-11111111111111111111111111111111' }, [event(9)]);

    expect(outcome).toMatchObject({ kind: 'retry', code: 'HTTP_403', status: 403 });
    expect(outcome.kind === 'retry' && outcome.message).toContain('Monitoring Metrics Publisher');
  });

  it('reports a refused connection as a retry with the network code', async () => {
    const outcome = await sender({ maxRetries: 0 }).send({ ...target, endpoint: 'https://127.0.0.1:1' }, [event(10)]);

    expect(outcome).toMatchObject({ kind: 'retry', code: 'ECONNREFUSED' });
  });

  it('sends nothing for no events, and refuses a non-https endpoint without a call', async () => {
    const calls = stack.logsIngestion.requests.length;

    expect(await sender().send(target, [])).toEqual({ kind: 'delivered' });
    expect(await sender().send({ ...target, endpoint: 'http://127.0.0.1:1' }, [event(11)])).toMatchObject({
      kind: 'retry',
      code: 'LOGS_INGESTION_TARGET_INVALID',
    });
    expect(stack.logsIngestion.requests.length).toBe(calls);
  });

  it('returns retry ABORTED when the call is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();

    expect(await sender().send(target, [event(12)], { signal: controller.signal })).toMatchObject({
      kind: 'retry',
      code: 'ABORTED',
    });
  });
});
