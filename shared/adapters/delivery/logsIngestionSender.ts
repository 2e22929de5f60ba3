/**
 * The Log Analytics sink (design §9): incident events as rows of a custom table, sent to the Azure Monitor Logs
 * Ingestion API (`POST {endpoint}/dataCollectionRules/{ruleId}/streams/{stream}?api-version=2023-01-01`, gzip) by
 * `@azure/monitor-ingestion`'s LogsIngestionClient with the collector's Azure identity.
 *
 * Facts this adapter relies on (checked in @azure/monitor-ingestion 1.2.0):
 * - `upload()` splits the rows into chunks of < 1,000,000 bytes of JSON, sends them up to `maxConcurrency` at a time,
 *   gzips each body, and after all were tried throws one `AggregateLogsUploadError` (name checked, not instanceof)
 *   whose `errors[]` hold each failed chunk's `cause` and `failedLogs`: some chunks may have been ingested.
 * - With an `abortSignal` that fires, it stops starting chunks and returns WITHOUT an error: the rest is unsent.
 * - The token scope is `{audience}/.default`, audience `https://monitor.azure.com` unless given (the SDK's
 *   KnownMonitorAudience: `.us` for US Government, `.cn` for China).
 * - The pipeline's retry policy retries 408/5xx and network errors with exponential backoff, and 429/503 after
 *   their `Retry-After`, up to `maxRetries` times.
 *
 * One outcome per call: `delivered` only when every chunk was accepted (204); anything else is a `retry` of the
 * whole call (a chunk that was accepted is sent again then: duplicates are allowed, a lost row is not). Messages
 * carry the status, the service's error code and counts, never the token or a row.
 */
import type { TokenCredential } from '@azure/identity';
import { LogsIngestionClient, type LogsIngestionClientOptions } from '@azure/monitor-ingestion';
import { isRetryableStatus, isTransientNetworkCode } from '../../domain/errors.js';
import type { Cloud, Settings } from '../../config/settings.js';
import type {
  DeliveryOutcome,
  IncidentCloudEvent,
  JsonObject,
  LogAnalyticsSender,
  LogAnalyticsTarget,
} from '../../ports.js';
import { createAzureCredential } from '../secretProvider.js';

/**
 * The Logs Ingestion token audience per cloud (the SDK's KnownMonitorAudience; the token scope is
 * `{audience}/.default`). GCC tenants' partner runs in the public cloud, so it uses the public audience.
 */
export const MONITOR_AUDIENCE: Readonly<Record<Cloud, string>> = {
  public: 'https://monitor.azure.com',
  gcc: 'https://monitor.azure.com',
  gcchigh: 'https://monitor.azure.us',
  dod: 'https://monitor.azure.us',
};

/** The custom table's columns (design §9); `infra/` declares the same names and types. */
export interface IncidentRow {
  /** The event time (the version's snapshotAt), ISO 8601 UTC. */
  readonly TimeGenerated: string;
  readonly TenantId: string;
  readonly IncidentId: string;
  /** The API's own `lastUpdate…` value of this version. */
  readonly LastUpdateTime: string;
  /** `graph` or `m365d`. */
  readonly Source: string;
  /** `incident.created` or `incident.updated`. */
  readonly EventType: string;
  readonly Severity?: string;
  readonly Status?: string;
  readonly Title?: string;
  /** `incident.updated` only: the top-level keys that changed. */
  readonly ChangedFields?: readonly string[];
  /** The incident as the API returned it (dynamic); without `alerts` (plus `alertCount`) when the row is too big. */
  readonly Incident: JsonObject;
}

/** Largest row sent with its alerts: the Logs Ingestion API refuses a call over 1 MB (413). */
export const MAX_ROW_BYTES = 1_000_000;

export interface LogsIngestionSenderOptions {
  /** Settings of the process: the cloud picks the token audience; the default identity uses the authority. */
  readonly settings: Pick<Settings, 'cloud' | 'authorityHost' | 'isMicrosoftAuthority'>;
  /** The environment the default identity reads (`AZURE_CLIENT_ID` etc.; default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * The collector's Azure identity. Default: `createAzureCredential(settings, env)` (managed identity in Azure,
   * DefaultAzureCredential locally), built on first use.
   */
  readonly credential?: TokenCredential;
  /** Token audience override (default MONITOR_AUDIENCE of `settings.cloud`). */
  readonly audience?: string;
  /** SDK retries per chunk within one call (default 3). */
  readonly maxRetries?: number;
  /** Base of the SDK's exponential backoff for 408/5xx/network errors (default 1000 ms). */
  readonly retryDelayInMs?: number;
  /**
   * The longest `Retry-After` waited for inside the call (default 30 s). A longer one ends the call with a `retry`
   * outcome (`HTTP_429`/`HTTP_503`) so the delivery schedule waits instead of a worker.
   */
  readonly maxRetryAfterMs?: number;
  /** Chunks sent at once (default 2). */
  readonly maxConcurrency?: number;
  /** Extra pipeline policies (tests). */
  readonly additionalPolicies?: LogsIngestionClientOptions['additionalPolicies'];
}

const DEFAULT_MAX_RETRY_AFTER_MS = 30_000;

/** A pipeline policy of the client (the SDK's own type, without importing its transport package). */
type PipelinePolicy = NonNullable<LogsIngestionClientOptions['additionalPolicies']>[number]['policy'];

/** Build the Logs Ingestion sender; clients are built per endpoint on first use. */
export function createLogsIngestionSender(options: LogsIngestionSenderOptions): LogAnalyticsSender {
  const audience = options.audience ?? MONITOR_AUDIENCE[options.settings.cloud];
  const maxRetryAfterMs = options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  let credential = options.credential;
  const clients = new Map<string, LogsIngestionClient>();

  const identity = (): TokenCredential => {
    credential ??= createAzureCredential(options.settings, options.env);
    return credential;
  };

  const client = (endpoint: string): LogsIngestionClient => {
    let existing = clients.get(endpoint);
    if (!existing) {
      existing = new LogsIngestionClient(endpoint, identity(), {
        audience,
        retryOptions: {
          maxRetries: options.maxRetries ?? 3,
          retryDelayInMs: options.retryDelayInMs ?? 1000,
          maxRetryDelayInMs: 16_000,
        },
        additionalPolicies: [
          { policy: retryAfterCapPolicy(maxRetryAfterMs), position: 'perRetry' },
          ...(options.additionalPolicies ?? []),
        ],
      });
      clients.set(endpoint, existing);
    }
    return existing;
  };

  return {
    async send(target, events, pageOptions) {
      if (events.length === 0) return { kind: 'delivered' };
      const invalid = invalidTarget(target);
      if (invalid) return invalid;
      const rows = events.map(toIncidentRow);
      const signal = pageOptions?.signal;
      if (signal?.aborted) return aborted(rows.length);
      try {
        await client(new URL(target.endpoint).origin).upload(
          target.ruleId,
          target.stream,
          rows as unknown as Record<string, unknown>[],
          {
            maxConcurrency: options.maxConcurrency ?? 2,
            ...(signal ? { abortSignal: signal } : {}),
          },
        );
      } catch (error) {
        return failureOutcome(error, target, rows.length);
      }
      // The SDK stops starting chunks on abort and returns without an error: whatever was left is not sent.
      if (signal?.aborted) return aborted(rows.length);
      return { kind: 'delivered', status: 204 };
    },
  } satisfies LogAnalyticsSender;
}

/** The row of one event (design §9 columns). */
export function toIncidentRow(event: IncidentCloudEvent): IncidentRow {
  const d = event.data;
  const severity = text(d.severity);
  const status = text(d.status);
  const title = text(d.title);
  const row: IncidentRow = {
    TimeGenerated: event.time,
    TenantId: d.tenantId,
    IncidentId: d.incidentId,
    LastUpdateTime: d.lastUpdateTime,
    Source: d.source,
    EventType: event.type,
    ...(severity !== undefined ? { Severity: severity } : {}),
    ...(status !== undefined ? { Status: status } : {}),
    ...(title !== undefined ? { Title: title } : {}),
    ...(d.changedFields !== undefined ? { ChangedFields: d.changedFields } : {}),
    Incident: d.incident,
  };
  if (Buffer.byteLength(JSON.stringify(row), 'utf8') <= MAX_ROW_BYTES) return row;
  // Over the API's call limit: the incident without its alerts, as the event's own `truncated` form does.
  const { alerts, ...rest } = d.incident;
  const alertCount = Array.isArray(alerts) ? alerts.length : (d.alertCount ?? 0);
  return { ...row, Incident: { ...rest, alertCount } };
}

/** A string column value: strings as they are, other scalars as text, objects as JSON; absent for null/undefined. */
function text(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function invalidTarget(target: LogAnalyticsTarget): DeliveryOutcome | undefined {
  let url: URL | undefined;
  try {
    url = new URL(target.endpoint);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'https:')
    return {
      kind: 'retry',
      code: 'LOGS_INGESTION_TARGET_INVALID',
      message: "The subscription's data collection endpoint is not an https:// URL.",
    };
  if (target.ruleId.trim() === '' || target.stream.trim() === '')
    return {
      kind: 'retry',
      code: 'LOGS_INGESTION_TARGET_INVALID',
      message: 'The subscription has no data collection rule ID or stream name.',
    };
  return undefined;
}

function aborted(rowCount: number): DeliveryOutcome {
  return {
    kind: 'retry',
    code: 'ABORTED',
    message: `The Logs Ingestion call was cancelled before all ${rowCount} rows were sent.`,
  };
}

/** Carries a throttling answer whose Retry-After is longer than the call may wait. */
class RetryAfterTooLongError extends Error {
  constructor(
    readonly statusCode: number,
    readonly retryAfterMs: number,
  ) {
    super(`Logs Ingestion answered HTTP ${statusCode} with Retry-After ${Math.ceil(retryAfterMs / 1000)} s.`);
    this.name = 'RetryAfterTooLongError';
  }
}

/**
 * A per-retry policy: a 429/503 whose Retry-After exceeds `maxMs` ends the call (a non-RestError is not retried by
 * the SDK's retry policy), so the delivery schedule, not this worker, waits it out.
 */
function retryAfterCapPolicy(maxMs: number): PipelinePolicy {
  return {
    name: 'retryAfterCap',
    async sendRequest(request, next) {
      const response = await next(request);
      if (response.status === 429 || response.status === 503) {
        const waitMs = retryAfterMs(response.headers.get('retry-after'));
        if (waitMs !== undefined && waitMs > maxMs) throw new RetryAfterTooLongError(response.status, waitMs);
      }
      return response;
    },
  };
}

/** Retry-After in ms: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

interface ChunkFailure {
  readonly cause: unknown;
  readonly failedLogs: readonly unknown[];
}

/** One outcome for the whole call: always `retry`, with the most telling code of the failed chunks. */
function failureOutcome(error: unknown, target: LogAnalyticsTarget, rowCount: number): DeliveryOutcome {
  const e = error as { name?: string; errors?: ChunkFailure[] } | undefined;
  const failures: ChunkFailure[] =
    e?.name === 'AggregateLogsUploadError' && Array.isArray(e.errors) ? e.errors : [{ cause: error, failedLogs: [] }];
  const described = failures.map((f) => describe(f.cause));
  // A refusal that will not heal (bad rule, stream, role, payload) says more than a throttled sibling chunk.
  const chosen = described.find((d) => d.status !== undefined && !isRetryableStatus(d.status)) ?? described[0];
  const failedRows = failures.reduce((n, f) => n + f.failedLogs.length, 0);
  const where = `rule ${target.ruleId}, stream ${target.stream}`;
  const partial =
    failedRows > 0 && failedRows < rowCount
      ? ` (${failedRows} of ${rowCount} rows refused; all will be sent again)`
      : '';
  return {
    kind: 'retry',
    code: chosen?.code ?? 'LOGS_INGESTION_FAILED',
    message: `Logs Ingestion (${where}): ${chosen?.text ?? 'the upload failed'}${partial}.`,
    ...(chosen?.status !== undefined ? { status: chosen.status } : {}),
  };
}

interface Described {
  readonly code: string;
  readonly text: string;
  readonly status?: number;
}

/** Status, service error code and network code only: never a message body, header or token. */
function describe(cause: unknown): Described {
  const c = (cause ?? {}) as {
    name?: string;
    statusCode?: number;
    code?: string;
    retryAfterMs?: number;
    details?: { error?: { code?: string } };
  };
  if (c.name === 'RetryAfterTooLongError' && typeof c.statusCode === 'number')
    return {
      code: `HTTP_${c.statusCode}`,
      text: `HTTP ${c.statusCode}, Retry-After ${Math.ceil((c.retryAfterMs ?? 0) / 1000)} s`,
      status: c.statusCode,
    };
  if (typeof c.statusCode === 'number') {
    const serviceCode = c.details?.error?.code ?? (c.code !== undefined && !/^\d+$/.test(c.code) ? c.code : undefined);
    return {
      code: `HTTP_${c.statusCode}`,
      text: `HTTP ${c.statusCode}${serviceCode ? ` ${serviceCode}` : ''}${hint(c.statusCode)}`,
      status: c.statusCode,
    };
  }
  if (c.name === 'AbortError') return { code: 'ABORTED', text: 'cancelled' };
  if (
    c.name === 'AuthenticationError' ||
    c.name === 'CredentialUnavailableError' ||
    c.name === 'AggregateAuthenticationError'
  )
    return {
      code: 'LOGS_INGESTION_AUTH',
      text: `the collector's identity got no token for Azure Monitor (${c.name})`,
    };
  if (isTransientNetworkCode(c.code)) return { code: c.code as string, text: `network error ${c.code}` };
  return { code: 'LOGS_INGESTION_FAILED', text: `the upload failed (${c.code ?? c.name ?? 'unknown error'})` };
}

/** What an operator checks for a refusal. */
function hint(status: number): string {
  switch (status) {
    case 401:
    case 403:
      return ': the identity needs Monitoring Metrics Publisher on the data collection rule';
    case 404:
      return ': check the data collection endpoint, rule immutable ID and stream of the subscription';
    case 413:
      return ': a batch exceeded the 1 MB call limit';
    default:
      return '';
  }
}
