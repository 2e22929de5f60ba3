/**
 * The Azure Monitor side of telemetry, loaded only when telemetry is on (shared/telemetry/index.ts imports it
 * dynamically). It starts the `@azure/monitor-opentelemetry` distro with no sampling (every record is sent), no live
 * metrics and no performance counters, forwards the product's log lines as OTel log records and implements
 * `CollectorMetrics` with OTel instruments.
 *
 * Log records (App Insights `traces`): body = the event name (`tenant.failed`, `run.finished`, …), severity from the
 * level, and one attribute (custom dimension) per field of the line: `event`, `level`, `runId`, `tenantId`,
 * `errorCode`, `durationMs`, … — taken from the redacted line, so no secret is ever an attribute.
 *
 * Metrics (App Insights `customMetrics`, meter `defender-incident-collector`):
 * - `collector.incident_versions_written` (counter; tenantId, source)
 * - `collector.incidents_fetched` (counter; tenantId, severity): incidents read, by the API's severity
 * - `collector.tenant_outcomes` (counter; tenantId, status `ok|failed|skipped`, errorCode or `none`)
 * - `collector.checkpoint_age` (gauge, seconds; tenantId): now − the tenant's checkpoint, for tenants this process
 *   collected successfully
 * - `collector.http_retries` (counter; tenantId, status `429|5xx…|network`) and `collector.http_throttled`
 *   (counter; tenantId): the incidents API's retries and the 429s among them
 * - `collector.delivery_backlog` (gauge; subscriptionId) and `collector.delivery_deadlettered` (counter;
 *   subscriptionId): fed by the delivery engine through the same port
 *
 * Process-wide effects, as the distro is process-wide: it registers the global OTel providers, and
 * `OTEL_NODE_RESOURCE_DETECTORS` defaults to `env,os` here when unset (see below).
 */
import { format } from 'node:util';
import { ManagedIdentityCredential } from '@azure/identity';
import { AzureLogger, getLogLevel, setLogLevel } from '@azure/logger';
import { shutdownAzureMonitor, useAzureMonitor } from '@azure/monitor-opentelemetry';
import { diag, DiagLogLevel, metrics, trace, type DiagLogger } from '@opentelemetry/api';
import { logs, SeverityNumber } from '@opentelemetry/api-logs';
import { addLogRecordListener, redact, type LogLevel, type LogRecordData } from '../log.js';
import type { CollectorMetrics } from '../ports.js';
import type { Telemetry, TelemetryOptions } from './index.js';

/** The instrumentation scope of every log record and instrument. */
export const TELEMETRY_SCOPE = 'defender-incident-collector';

const SEVERITY: Record<LogLevel, SeverityNumber> = {
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

export interface AzureMonitorOptions extends TelemetryOptions {
  readonly connectionString: string;
  /** Entra authentication (APPLICATIONINSIGHTS_AUTHENTICATION_STRING); undefined: instrumentation-key ingestion. */
  readonly authentication?: { readonly kind: 'aad'; readonly clientId?: string } | undefined;
}

function writeDiag(level: string, message: string, args: unknown[]): void {
  process.stderr.write(`telemetry ${level}: ${redact(format(message, ...args))}\n`);
}

/** OpenTelemetry's own diagnostics (export failures and the like), on stderr and redacted. */
const stderrDiagLogger: DiagLogger = {
  error: (message, ...args) => writeDiag('error', message, args),
  warn: (message, ...args) => writeDiag('warning', message, args),
  info: (message, ...args) => writeDiag('info', message, args),
  debug: (message, ...args) => writeDiag('debug', message, args),
  verbose: (message, ...args) => writeDiag('verbose', message, args),
};

/** A provider's flush, when the registered global provider has one (the SDK's do; the no-op ones do not). */
async function forceFlush(provider: unknown): Promise<void> {
  const flush = (provider as { forceFlush?: () => Promise<void> }).forceFlush;
  if (typeof flush === 'function') await flush.call(provider);
}

/** Start the distro and wire logs and metrics to it. See the module docstring for what is sent. */
export function startAzureMonitor(options: AzureMonitorOptions): Telemetry {
  const credential =
    options.authentication === undefined
      ? undefined
      : options.authentication.clientId !== undefined
        ? new ManagedIdentityCredential({ clientId: options.authentication.clientId })
        : new ManagedIdentityCredential();
  // The SDK's default host detector resolves the machine ID asynchronously, and every record exported before it
  // settles logs an OTel error: use the synchronous detectors unless the operator chose others.
  process.env.OTEL_NODE_RESOURCE_DETECTORS ??= 'env,os';
  // The distro points the Azure SDK logger and the OTel diagnostics at console.log (stdout, which the CLI reserves
  // for results) and turns Azure SDK warnings on for the whole process: put both back as they were (AZURE_LOG_LEVEL
  // decides, on stderr) and send OTel's own warnings to stderr, redacted.
  const azureLog = AzureLogger.log;
  const azureLevel = getLogLevel();
  useAzureMonitor({
    azureMonitorExporterOptions: {
      connectionString: options.connectionString,
      ...(credential !== undefined ? { credential } : {}),
      ...(options.disableOfflineStorage ? { disableOfflineStorage: true } : {}),
    },
    // No sampling: a failing tenant's records must all arrive (alerts count them).
    samplingRatio: 1,
    tracesPerSecond: 0,
    enableTraceBasedSamplingForLogs: false,
    enableLiveMetrics: false,
    enablePerformanceCounters: false,
  });

  AzureLogger.log = azureLog;
  setLogLevel(azureLevel);
  diag.setLogger(stderrDiagLogger, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const logger = logs.getLogger(TELEMETRY_SCOPE);
  const stopListening = addLogRecordListener((record: LogRecordData) => {
    logger.emit({
      timestamp: new Date(record.time),
      severityNumber: SEVERITY[record.level],
      severityText: record.level.toUpperCase(),
      body: record.event,
      attributes: { ...record.attributes },
    });
  });

  const meter = metrics.getMeter(TELEMETRY_SCOPE);
  const versions = meter.createCounter('collector.incident_versions_written', {
    description: 'New IncidentHistory versions written (one per new or changed incident version).',
  });
  const fetched = meter.createCounter('collector.incidents_fetched', {
    description: 'Incidents read from the API, by tenant and severity (overlap re-reads included).',
  });
  const outcomes = meter.createCounter('collector.tenant_outcomes', {
    description: 'Tenant collections ended, by status (ok, failed, skipped) and error code.',
  });
  const retries = meter.createCounter('collector.http_retries', {
    description: 'Retried incidents-API requests, by HTTP status (or network).',
  });
  const throttled = meter.createCounter('collector.http_throttled', {
    description: 'Incidents-API answers 429 (throttled).',
  });
  const deadLettered = meter.createCounter('collector.delivery_deadlettered', {
    description: 'Incident events dead-lettered after their last delivery attempt.',
  });
  const checkpoints = new Map<string, number>();
  const backlog = new Map<string, number>();
  meter
    .createObservableGauge('collector.checkpoint_age', {
      description: 'Age of each collected tenant checkpoint (now minus the checkpoint instant).',
      unit: 's',
    })
    .addCallback((result) => {
      const now = Date.now();
      for (const [tenantId, at] of checkpoints) result.observe(Math.max(0, (now - at) / 1000), { tenantId });
    });
  meter
    .createObservableGauge('collector.delivery_backlog', {
      description: 'Events waiting for delivery per subscription after the last delivery pass.',
    })
    .addCallback((result) => {
      for (const [subscriptionId, pending] of backlog) result.observe(pending, { subscriptionId });
    });

  const collectorMetrics: CollectorMetrics = {
    incidentVersionsWritten: (tenantId, source, count) => versions.add(count, { tenantId, source }),
    incidentsFetched: (tenantId, severity, count) => fetched.add(count, { tenantId, severity }),
    tenantOutcome: (tenantId, status, errorCode) =>
      outcomes.add(1, { tenantId, status, errorCode: errorCode ?? 'none' }),
    checkpoint: (tenantId, checkpoint) => {
      const at = Date.parse(checkpoint);
      if (Number.isFinite(at)) checkpoints.set(tenantId, at);
    },
    httpRetry: (tenantId, status) => {
      retries.add(1, { tenantId, status: status === undefined ? 'network' : String(status) });
      if (status === 429) throttled.add(1, { tenantId });
    },
    deliveryBacklog: (subscriptionId, pending) => void backlog.set(subscriptionId, pending),
    deadLettered: (subscriptionId, count) => deadLettered.add(count, { subscriptionId }),
  };

  const flush = async () => {
    await Promise.all([
      forceFlush(logs.getLoggerProvider()),
      forceFlush(metrics.getMeterProvider()),
      forceFlush(trace.getTracerProvider()),
    ]);
  };
  let stopped: Promise<void> | undefined;
  return {
    enabled: true,
    metrics: collectorMetrics,
    flush,
    shutdown: () =>
      (stopped ??= (async () => {
        stopListening();
        try {
          await flush();
        } finally {
          await shutdownAzureMonitor();
        }
      })()),
  };
}
