/**
 * Telemetry without a network (issue 12): off means no OpenTelemetry import at all; malformed settings are named;
 * log lines become structured, redacted records; the delivery hook keeps the documented event name; the Functions
 * trace binding. The Azure Monitor distro is replaced by a recording stand-in here; the real exporter is exercised
 * end to end in test/integration/telemetry.e2e.test.ts.
 */
import { describe, expect, it, jest } from '@jest/globals';
import { RecordingLogger } from '../../fakes/logger.js';
import type { CollectorMetrics } from '../../../shared/ports.js';

let distroImports = 0;
const distroCalls: unknown[] = [];
jest.unstable_mockModule('@azure/monitor-opentelemetry', () => {
  distroImports += 1;
  return {
    useAzureMonitor: (options: unknown) => void distroCalls.push(options),
    shutdownAzureMonitor: () => Promise.resolve(),
  };
});

const { startTelemetry, parseAuthenticationString, disabledTelemetry } =
  await import('../../../shared/telemetry/index.js');
const { addLogRecordListener, createLogger, registerSecret } = await import('../../../shared/log.js');
const { reportDeadLettered, reportDeliveryBacklog, DELIVERY_DEADLETTERED_EVENT } =
  await import('../../../shared/telemetry/delivery.js');
const { bindToHostTrace } = await import('../../../shared/telemetry/traceContext.js');

describe('startTelemetry', () => {
  it('without a connection string is disabled and never imports the Azure Monitor distro', async () => {
    for (const env of [
      {},
      { APPLICATIONINSIGHTS_CONNECTION_STRING: '' },
      { APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' },
    ]) {
      const telemetry = await startTelemetry(env);
      expect(telemetry).toBe(disabledTelemetry);
      expect(telemetry.enabled).toBe(false);
    }
    expect(distroImports).toBe(0);
  });

  it('names the setting when the connection string or the authentication string is malformed', async () => {
    await expect(
      startTelemetry({ APPLICATIONINSIGHTS_CONNECTION_STRING: 'IngestionEndpoint=https://x/' }),
    ).rejects.toMatchObject({
      name: 'ConfigError',
      setting: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
    });
    await expect(
      startTelemetry({
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=k;IngestionEndpoint=https://127.0.0.1:1/',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=Key',
      }),
    ).rejects.toMatchObject({ setting: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING' });
    expect(distroImports).toBe(0);
  });

  it('reads the Functions authentication string: a user-assigned identity, or the system-assigned one', () => {
    expect(parseAuthenticationString('ClientId=1111;Authorization=AAD')).toEqual({ kind: 'aad', clientId: '1111' });
    expect(parseAuthenticationString('Authorization=AAD')).toEqual({ kind: 'aad' });
    expect(parseAuthenticationString(undefined)).toBeUndefined();
    expect(() => parseAuthenticationString('ClientId')).toThrow(/APPLICATIONINSIGHTS_AUTHENTICATION_STRING/);
  });

  it('with a connection string starts the distro unsampled, without live metrics, and stops cleanly', async () => {
    const telemetry = await startTelemetry({
      APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=k;IngestionEndpoint=https://127.0.0.1:1/',
    });
    expect(telemetry.enabled).toBe(true);
    expect(distroImports).toBe(1);
    expect(distroCalls[0]).toMatchObject({
      azureMonitorExporterOptions: { connectionString: 'InstrumentationKey=k;IngestionEndpoint=https://127.0.0.1:1/' },
      samplingRatio: 1,
      tracesPerSecond: 0,
      enableLiveMetrics: false,
    });
    await telemetry.shutdown();
  });
});

describe('log records for telemetry', () => {
  it('carry every field as its own attribute, nested ones flattened, nulls dropped, secrets redacted', () => {
    registerSecret('telemetry-secret-value-42');
    const seen: Parameters<Parameters<typeof addLogRecordListener>[0]>[0][] = [];
    const stop = addLogRecordListener((r) => seen.push(r));
    const lines: string[] = [];
    const log = createLogger((_l, line) => lines.push(line), { runId: 'r-1' });
    log.warn('tenant.failed', {
      tenantId: 't-1',
      errorCode: 'AADSTS7000215',
      message: 'refused: telemetry-secret-value-42',
      credential: { kind: 'secret', expiresOn: null },
      reasons: ['a', 'b'],
      durationMs: 12,
    });
    stop();
    log.info('after.stop');
    expect(seen).toHaveLength(1);
    const record = seen[0];
    expect(record).toMatchObject({ level: 'warn', event: 'tenant.failed' });
    expect(record?.attributes).toMatchObject({
      event: 'tenant.failed',
      level: 'warn',
      runId: 'r-1',
      tenantId: 't-1',
      errorCode: 'AADSTS7000215',
      'credential.kind': 'secret',
      reasons: ['a', 'b'],
      durationMs: 12,
    });
    expect(record?.attributes).not.toHaveProperty('credential.expiresOn');
    expect(JSON.stringify(record)).not.toContain('telemetry-secret-value-42');
    expect(String(record?.attributes.message)).toContain('[redacted-secret]');
    // The sink still gets the same line as before.
    expect(lines).toHaveLength(2);
  });

  it('a listener that throws never breaks logging', () => {
    const stop = addLogRecordListener(() => {
      throw new Error('exporter down');
    });
    const lines: string[] = [];
    expect(() => createLogger((_l, line) => lines.push(line)).info('still.logged')).not.toThrow();
    stop();
    expect(lines).toHaveLength(1);
  });
});

describe('delivery telemetry hook', () => {
  it('logs delivery.deadlettered with its dimensions and counts it; reports the backlog', () => {
    const logger = new RecordingLogger();
    const calls: string[] = [];
    const metrics: CollectorMetrics = {
      incidentVersionsWritten: () => undefined,
      incidentsFetched: () => undefined,
      tenantOutcome: () => undefined,
      checkpoint: () => undefined,
      httpRetry: () => undefined,
      deliveryBacklog: (s, n) => void calls.push(`backlog ${s} ${n}`),
      deadLettered: (s, n) => void calls.push(`dead ${s} ${n}`),
    };
    reportDeadLettered(
      { logger, metrics },
      { subscriptionId: 's-1', eventId: 't/i/1', tenantId: 't', incidentId: 'i', attempts: 8, errorCode: 'HTTP_500' },
    );
    reportDeliveryBacklog({ metrics }, 's-1', 3);
    expect(DELIVERY_DEADLETTERED_EVENT).toBe('delivery.deadlettered');
    expect(logger.events).toEqual([
      {
        level: 'error',
        event: 'delivery.deadlettered',
        fields: {
          subscriptionId: 's-1',
          eventId: 't/i/1',
          tenantId: 't',
          incidentId: 'i',
          attempts: 8,
          errorCode: 'HTTP_500',
        },
      },
    ]);
    expect(calls).toEqual(['dead s-1 1', 'backlog s-1 3']);
  });
});

describe('bindToHostTrace', () => {
  it('returns the handler itself when the host sent no traceparent', async () => {
    const handler = () => 1;
    expect(await bindToHostTrace(undefined, handler)).toBe(handler);
    expect(await bindToHostTrace({ traceState: 'x=1' }, handler)).toBe(handler);
  });
});
