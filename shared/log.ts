/**
 * One small logger with stable event names and fields (runId, tenantId, incidentCount, durationMs, errorCode),
 * and the last line of defence for secret hygiene: every line passes through `redact`, which masks JWTs, bearer
 * tokens, form-encoded secrets and every secret value the process has read (registered by the secret provider).
 */
import type { Logger } from './ports.js';

const knownSecrets = new Set<string>();

/** Remember a secret value so no log line, error text or export can carry it. */
export function registerSecret(value: string): void {
  if (value.length >= 8) knownSecrets.add(value);
}

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/g;
const BEARER = /(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;
const FORM_SECRET =
  /((?:client_secret|client_assertion|access_token|refresh_token|password|AccountKey|sig)=)[^&;\s"']+/gi;

/**
 * A PEM private-key block (`-----BEGIN [RSA |EC |ENCRYPTED ]PRIVATE KEY----- … -----END … PRIVATE KEY-----`),
 * with real line breaks or with the `\n` / `\r\n` escapes JSON gives them.
 */
const PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;

/**
 * Mask anything that looks like a credential: JWTs, bearer tokens, form-encoded secrets, PEM private-key blocks,
 * and every registered secret, both as read and in its JSON-escaped form (a PEM's newlines become `\n` on a line).
 */
export function redact(text: string): string {
  let out = text
    .replace(PRIVATE_KEY, '[redacted-private-key]')
    .replace(JWT, '[redacted-jwt]')
    .replace(BEARER, '$1[redacted]')
    .replace(FORM_SECRET, '$1[redacted]');
  for (const secret of knownSecrets) {
    for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
      if (out.includes(form)) out = out.split(form).join('[redacted-secret]');
    }
  }
  return out;
}

export type LogLevel = 'info' | 'warn' | 'error';
export type LogSink = (level: LogLevel, line: string) => void;

/** JSON of the fields with every string value redacted before escaping (then the whole line again, by the caller). */
function serialise(fields: Record<string, unknown>): string {
  return JSON.stringify(fields, (_key, value: unknown) => {
    if (typeof value === 'string') return redact(value);
    if (typeof value === 'bigint') return value.toString();
    if (value instanceof Error)
      return {
        name: value.name,
        message: redact(value.message),
        ...('code' in value ? { code: (value as { code: unknown }).code } : {}),
      };
    return value;
  });
}

/** A value OpenTelemetry can carry as one attribute. */
export type LogAttribute = string | number | boolean | string[] | number[] | boolean[];

/**
 * One log line as structured data, for telemetry: every field a separate attribute (nested objects flattened to
 * `a.b` keys, nulls dropped), taken from the already redacted line, so nothing reaches an exporter that the line
 * would not show. `time`, `level` and `event` are attributes too.
 */
export interface LogRecordData {
  readonly level: LogLevel;
  readonly event: string;
  /** ISO-8601 UTC instant the line was written. */
  readonly time: string;
  readonly attributes: Readonly<Record<string, LogAttribute>>;
}

/** Receives every line any logger of this module writes, as structured data (telemetry). */
export type LogRecordListener = (record: LogRecordData) => void;

const recordListeners = new Set<LogRecordListener>();

/**
 * Send every line written from now on (by any logger of this module, whatever its sink or level filter) to
 * `listener` as well. Returns the function that stops it. A listener that throws is ignored: telemetry never
 * breaks logging.
 */
export function addLogRecordListener(listener: LogRecordListener): () => void {
  recordListeners.add(listener);
  return () => void recordListeners.delete(listener);
}

function isPrimitiveArray(value: unknown[]): value is string[] | number[] | boolean[] {
  const kinds = new Set(value.map((v) => typeof v));
  return kinds.size <= 1 && [...kinds].every((k) => k === 'string' || k === 'number' || k === 'boolean');
}

function flatten(value: unknown, prefix: string, out: Record<string, LogAttribute>): void {
  if (value === null || value === undefined) return;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out[prefix] = value;
  } else if (Array.isArray(value)) {
    if (isPrimitiveArray(value)) out[prefix] = value;
    else value.forEach((item, i) => flatten(item, `${prefix}.${i}`, out));
  } else if (typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, out);
  }
}

/** The attributes of a redacted JSON line (see LogRecordData). */
export function toLogRecord(line: string): LogRecordData {
  const parsed = JSON.parse(line) as Record<string, unknown>;
  const attributes: Record<string, LogAttribute> = {};
  flatten(parsed, '', attributes);
  return {
    level: parsed.level as LogLevel,
    event: String(parsed.event),
    time: String(parsed.time),
    attributes,
  };
}

function notifyListeners(line: string): void {
  if (recordListeners.size === 0) return;
  let record: LogRecordData;
  try {
    record = toLogRecord(line);
  } catch {
    return;
  }
  for (const listener of recordListeners) {
    try {
      listener(record);
    } catch {
      // Telemetry must never break the product's logging.
    }
  }
}

/** A logger writing one redacted JSON object per line to `sink` (and to every record listener). */
export function createLogger(
  sink: LogSink,
  base: Record<string, unknown> = {},
): Logger & { child(extra: Record<string, unknown>): Logger } {
  const write = (level: LogLevel, event: string, fields?: Record<string, unknown>) => {
    const line = redact(serialise({ time: new Date().toISOString(), level, event, ...base, ...fields }));
    sink(level, line);
    notifyListeners(line);
  };
  return {
    info: (event, fields) => write('info', event, fields),
    warn: (event, fields) => write('warn', event, fields),
    error: (event, fields) => write('error', event, fields),
    child: (extra) => createLogger(sink, { ...base, ...extra }),
  };
}

/** JSON lines on stderr (the CLI: stdout is reserved for results). */
export function stderrLogger(minLevel: LogLevel = 'info'): Logger {
  const order: Record<LogLevel, number> = { info: 0, warn: 1, error: 2 };
  return createLogger((level, line) => {
    if (order[level] >= order[minLevel]) process.stderr.write(`${line}\n`);
  });
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };
