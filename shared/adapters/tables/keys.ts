/**
 * Table keys. PartitionKey/RowKey must not contain / \ # ? or control characters (Azure answers 400, Azurite 500
 * for `/`), and are at most 1 KiB. Incident IDs are stored verbatim when they are safe (the contract's RowKey is
 * the incident ID); otherwise the offending characters — and `%`, so the mapping stays reversible — are written
 * as `%XX`.
 */
import { CollectorError } from '../../domain/errors.js';
import { ErrorCode } from '../../domain/errorCodes.js';

// Control characters are exactly what these patterns must find.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[/\\#?%\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
/** Leaves room for the history suffix `_YYYY-MM-DDTHH:mm:ss.fffffffZ` (29 chars) within 1 KiB of UTF-16. */
const MAX_ID_KEY_LENGTH = 480;

function invalidKey(what: string): CollectorError {
  return new CollectorError(`The ${what} cannot be used as a table key.`, {
    code: ErrorCode.TABLE_INVALID_KEY,
    kind: 'permanent',
  });
}

/**
 * The RowKey form of an incident ID. A leading `~` is escaped too (`%7E`): RowKeys starting with `~` are the
 * IncidentHistory partition's event rows (see eventRowKey), and no incident key may sort among them.
 */
export function encodeKey(id: string): string {
  if (id === '') throw invalidKey('incident ID (empty)');
  const escaped = id.replace(UNSAFE, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  const key = escaped.startsWith('~') ? `%7E${escaped.slice(1)}` : escaped;
  if (key.length > MAX_ID_KEY_LENGTH) throw invalidKey('incident ID (too long)');
  return key;
}

/** The incident ID of a RowKey made by encodeKey. */
export function decodeKey(key: string): string {
  return key.replace(/%([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** Guard a key we do not escape (tenant IDs, hashes, run IDs): reject rather than corrupt. */
export function assertSafeKey(value: string, what: string): string {
  if (value === '' || value.length > 512 || FORBIDDEN.test(value)) throw invalidKey(what);
  return value;
}

/** History RowKey: the incident's key, `_`, and the fixed-width lastUpdateTime (sorts by version). */
export function historyRowKey(idKey: string, lastUpdateKey: string): string {
  return `${idKey}_${lastUpdateKey}`;
}

/** Length of the fixed-width suffix `_YYYY-MM-DDTHH:mm:ss.fffffffZ`. */
export const HISTORY_SUFFIX_LENGTH = 29;

/** The incident key part of a history RowKey. */
export function idKeyOfHistoryRowKey(rowKey: string): string {
  return rowKey.slice(0, rowKey.length - HISTORY_SUFFIX_LENGTH);
}

/** Tenant IDs are GUIDs in any case; every table keys them lower case. */
export function tenantKey(tenantId: string): string {
  return assertSafeKey(tenantId.trim().toLowerCase(), 'tenant ID');
}

/**
 * Event rows (design §9) live in the IncidentHistory partition of their tenant, next to the history rows, so a
 * version's history row and its event row are written in one entity-group transaction. Their RowKeys are
 * `~ev_` + the sequence in 16 digits: encodeKey never yields a leading `~`, so no incident key starts with it, the
 * event rows form one contiguous range ("entries after sequence N" is one range query), and history scans exclude
 * exactly that range (HISTORY_ROWS_FILTER). Incident keys of ASCII IDs (every ID the APIs issue) sort before it.
 */
export const EVENT_ROW_PREFIX = '~ev_';
/** The first RowKey after every event row (`` ` `` follows `_`). */
export const EVENT_ROWS_END = '~ev`';
/** The $filter clause that keeps history rows and leaves out the event rows of a history partition. */
export const HISTORY_ROWS_FILTER = `(RowKey lt '${EVENT_ROW_PREFIX}' or RowKey ge '${EVENT_ROWS_END}')`;
/** Digits of a sequence in a RowKey: Number.MAX_SAFE_INTEGER has 16. */
export const SEQUENCE_DIGITS = 16;

/** The RowKey of the event with this sequence (a safe non-negative integer), zero-padded so it sorts numerically. */
export function eventRowKey(sequence: number): string {
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw invalidKey(`event sequence (${String(sequence)})`);
  return `${EVENT_ROW_PREFIX}${String(sequence).padStart(SEQUENCE_DIGITS, '0')}`;
}

/** The sequence of an event RowKey, or undefined when the key is not one. */
export function sequenceOfEventRowKey(rowKey: string): number | undefined {
  if (!rowKey.startsWith(EVENT_ROW_PREFIX)) return undefined;
  const digits = rowKey.slice(EVENT_ROW_PREFIX.length);
  if (!/^\d{16}$/.test(digits)) return undefined;
  const value = Number(digits);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Whether a RowKey of the IncidentHistory table is a history row (incident keys never start with `~`). */
export function isHistoryRowKey(rowKey: string): boolean {
  return !rowKey.startsWith('~');
}
