/**
 * Telemetry (issue 12): OpenTelemetry through Azure Monitor, on only when `APPLICATIONINSIGHTS_CONNECTION_STRING` is
 * set. Off, nothing is imported (the OpenTelemetry packages load through a dynamic import only when on), nothing is
 * sent, and `metrics` is `noMetrics`. On, every line any logger of shared/log.ts writes becomes an OTel log record
 * (App Insights `traces`, one custom dimension per field), and the core's `CollectorMetrics` become OTel instruments
 * (App Insights `customMetrics`). See shared/telemetry/azureMonitor.ts for names and what is sent.
 */
import { ConfigError } from '../domain/errors.js';
import { type CollectorMetrics, noMetrics } from '../ports.js';

/** A running (or disabled) telemetry pipeline. */
export interface Telemetry {
  /** False when no connection string is set: nothing was loaded and nothing is sent. */
  readonly enabled: boolean;
  readonly metrics: CollectorMetrics;
  /** Export everything recorded so far now (log records, metrics, spans) instead of at the next interval. */
  flush(): Promise<void>;
  /** Flush, stop exporting and stop listening to the log; the process can start telemetry again afterwards. */
  shutdown(): Promise<void>;
}

/** Options of `startTelemetry` (tests, the CLI). */
export interface TelemetryOptions {
  /**
   * Keep nothing on disk for retry when the ingestion endpoint cannot be reached (the exporter's offline storage).
   * Default false: records that fail to send are retried later from the temp directory, as the exporter does.
   */
  readonly disableOfflineStorage?: boolean;
}

/** Telemetry that does nothing (connection string unset). */
export const disabledTelemetry: Telemetry = {
  enabled: false,
  metrics: noMetrics,
  flush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * The parts of `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` (`Authorization=AAD` and optionally `ClientId=<guid>`,
 * the App Service / Functions convention): Entra authentication with that user-assigned managed identity, or with
 * the system-assigned one when ClientId is absent. Undefined when the setting is unset or empty (key-based
 * ingestion). Throws ConfigError naming the setting for any other form.
 */
export function parseAuthenticationString(
  value: string | undefined,
): { readonly kind: 'aad'; readonly clientId?: string } | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const parts = new Map<string, string>();
  for (const part of value.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0)
      throw new ConfigError(
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be "Authorization=AAD" or "ClientId=<guid>;Authorization=AAD".',
      );
    parts.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  if (parts.get('authorization')?.toUpperCase() !== 'AAD')
    throw new ConfigError(
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING must contain "Authorization=AAD".',
    );
  const clientId = parts.get('clientid');
  return clientId ? { kind: 'aad', clientId } : { kind: 'aad' };
}

/**
 * Start telemetry from the environment: disabled (no import, no network) when `APPLICATIONINSIGHTS_CONNECTION_STRING`
 * is unset or empty; otherwise Azure Monitor through `@azure/monitor-opentelemetry`, authenticated as
 * `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` says. Throws ConfigError naming the setting when a setting is malformed.
 */
export async function startTelemetry(
  env: Readonly<Record<string, string | undefined>>,
  options: TelemetryOptions = {},
): Promise<Telemetry> {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim();
  if (!connectionString) return disabledTelemetry;
  if (!/(^|;)\s*InstrumentationKey\s*=/i.test(connectionString))
    throw new ConfigError(
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'APPLICATIONINSIGHTS_CONNECTION_STRING must contain InstrumentationKey=… (copy it from the Application Insights resource).',
    );
  const authentication = parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  const { startAzureMonitor } = await import('./azureMonitor.js');
  return startAzureMonitor({ connectionString, authentication, ...options });
}
