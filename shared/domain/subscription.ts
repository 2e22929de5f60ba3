/**
 * Subscriptions (design §9): where incident events go, which of them, and the rules their input must follow.
 * Pure: validation, filters, webhook-secret generation. Every bad value is an InputError naming the field or flag.
 */
import { InputError } from './errors.js';
import { isTenantId } from './tenantId.js';
import type { EventEntry, IncidentEventType } from '../ports.js';

export type SubscriptionKind = 'webhook' | 'log-analytics';
export type SubscriptionStatus = 'active' | 'disabled';

/** Severity levels of the `minSeverity` filter, lowest first (design §9). */
export const SEVERITY_LEVELS = ['informational', 'low', 'medium', 'high'] as const;
export type SeverityLevel = (typeof SEVERITY_LEVELS)[number];

export const EVENT_TYPES: readonly IncidentEventType[] = ['incident.created', 'incident.updated'];

/** Filters of a subscription, all optional, combined with AND (design §9). */
export interface SubscriptionFilters {
  /** Tenant IDs (lower-case GUIDs); absent = every tenant. */
  readonly tenants?: readonly string[];
  /** Lowest severity delivered; an event whose severity is not one of SEVERITY_LEVELS passes. */
  readonly minSeverity?: SeverityLevel;
  /** Event types delivered; absent = both. */
  readonly types?: readonly IncidentEventType[];
}

/** One subscription as stored in the `Subscriptions` table (PK `subscription`, RK id). Never holds the secret. */
export interface SubscriptionRecord {
  /** `sub-` + a lower-case UUID. */
  readonly id: string;
  readonly kind: SubscriptionKind;
  /** webhook: the receiver URL. */
  readonly url?: string;
  /** log-analytics: the data collection endpoint. */
  readonly endpoint?: string;
  /** log-analytics: the data collection rule's immutable ID. */
  readonly ruleId?: string;
  /** log-analytics: the stream name. */
  readonly stream?: string;
  readonly filters: SubscriptionFilters;
  readonly status: SubscriptionStatus;
  /** ISO 8601 UTC: events written before it are delivered only through `replay`. */
  readonly createdAt: string;
  /** Why it was disabled (e.g. `HTTP_410`), while disabled. */
  readonly disabledReason?: string;
}

/** What `subscriptions add` (CLI or admin API) asks for, before validation. */
export interface SubscriptionInput {
  readonly url?: string;
  readonly logAnalytics?: boolean;
  readonly endpoint?: string;
  readonly ruleId?: string;
  readonly stream?: string;
  readonly secret?: string;
  readonly tenants?: readonly string[];
  readonly minSeverity?: string;
  readonly types?: readonly string[];
}

/** Field names as the caller wrote them (CLI flags or JSON body fields). */
export interface FieldNames {
  readonly url: string;
  readonly endpoint: string;
  readonly ruleId: string;
  readonly stream: string;
  readonly secret: string;
  readonly tenants: string;
  readonly minSeverity: string;
  readonly types: string;
}

export const CLI_FIELDS: FieldNames = {
  url: '--url',
  endpoint: '--endpoint',
  ruleId: '--rule',
  stream: '--stream',
  secret: '--secret',
  tenants: '--tenant',
  minSeverity: '--min-severity',
  types: '--type',
};

export const BODY_FIELDS: FieldNames = {
  url: 'url',
  endpoint: 'endpoint',
  ruleId: 'ruleId',
  stream: 'stream',
  secret: 'secret',
  tenants: 'tenants',
  minSeverity: 'minSeverity',
  types: 'types',
};

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** True when `url` is `http://` to a loopback host (local development receivers only). */
export function isLoopbackHttpUrl(url: URL): boolean {
  return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
}

/** An `https://` URL, or `http://` to a loopback host; no credentials in it; at most 2048 characters. */
export function parseDeliveryUrl(raw: string, field: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new InputError(field, `${field} must be an absolute https:// URL.`);
  }
  if (url.protocol !== 'https:' && !isLoopbackHttpUrl(url))
    throw new InputError(field, `${field} must be an https:// URL (http:// only for a loopback host).`);
  if (url.username !== '' || url.password !== '')
    throw new InputError(field, `${field} must not carry a user name or password.`);
  if (url.href.length > 2048) throw new InputError(field, `${field} is longer than 2048 characters.`);
  return url.href;
}

const SECRET_PATTERN = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/**
 * Validate a given webhook secret: `whsec_` + base64 of 24 to 64 bytes. The error never echoes the value.
 */
export function parseWebhookSecret(raw: string, field: string): string {
  const match = SECRET_PATTERN.exec(raw.trim());
  const bytes = match?.[1] !== undefined ? Buffer.from(match[1], 'base64') : undefined;
  if (!bytes || bytes.toString('base64') !== match?.[1] || bytes.length < 24 || bytes.length > 64)
    throw new InputError(field, `${field} must be whsec_ followed by the base64 of 24 to 64 random bytes.`);
  return raw.trim();
}

/** A severity level, case-insensitive. */
export function parseSeverity(raw: string, field: string): SeverityLevel {
  const level = raw.trim().toLowerCase();
  if (!(SEVERITY_LEVELS as readonly string[]).includes(level))
    throw new InputError(field, `${field} must be one of ${SEVERITY_LEVELS.join(', ')}.`);
  return level as SeverityLevel;
}

/** An event type of EVENT_TYPES. */
export function parseEventType(raw: string, field: string): IncidentEventType {
  const type = raw.trim();
  if (!(EVENT_TYPES as readonly string[]).includes(type))
    throw new InputError(field, `${field} must be one of ${EVENT_TYPES.join(', ')}.`);
  return type as IncidentEventType;
}

function parseName(raw: string | undefined, field: string, pattern: RegExp, what: string): string {
  const value = raw?.trim() ?? '';
  if (value === '') throw new InputError(field, `${field} is required for a log-analytics subscription.`);
  if (!pattern.test(value)) throw new InputError(field, `${field} must be ${what}.`);
  return value;
}

/** Validate and normalise filters (tenant IDs lower case, de-duplicated). */
export function parseFilters(input: SubscriptionInput, names: FieldNames = CLI_FIELDS): SubscriptionFilters {
  const tenants = [...new Set((input.tenants ?? []).map((t) => t.trim().toLowerCase()))];
  for (const t of tenants)
    if (!isTenantId(t)) throw new InputError(names.tenants, `${names.tenants} must be a tenant ID (GUID).`);
  const types = [...new Set((input.types ?? []).map((t) => parseEventType(t, names.types)))];
  return {
    ...(tenants.length ? { tenants } : {}),
    ...(input.minSeverity !== undefined ? { minSeverity: parseSeverity(input.minSeverity, names.minSeverity) } : {}),
    ...(types.length ? { types } : {}),
  };
}

/** A validated new subscription: the record to store and the secret to keep (webhook only). */
export interface NewSubscription {
  readonly record: SubscriptionRecord;
  /** The webhook secret (given or generated); undefined for log-analytics. */
  readonly secret?: string;
  /** True when the secret was generated here (then `add` shows it, once). */
  readonly generated: boolean;
}

/** Fresh values a new subscription needs (random: made by the caller, so this module stays pure). */
export interface Fresh {
  /** A lower-case UUID. */
  readonly uuid: string;
  /** Makes a webhook secret (`whsec_` + base64 of 32 random bytes) when none was given. */
  readonly secret: () => string;
}

/** Validate `input` into a new active subscription created at `now`. */
export function newSubscription(
  input: SubscriptionInput,
  now: Date,
  fresh: Fresh,
  names: FieldNames = CLI_FIELDS,
): NewSubscription {
  const filters = parseFilters(input, names);
  const base = {
    id: `sub-${fresh.uuid.toLowerCase()}`,
    filters,
    status: 'active' as const,
    createdAt: now.toISOString(),
  };
  if (input.logAnalytics) {
    if (input.url !== undefined)
      throw new InputError(names.url, `${names.url} is for webhook subscriptions, not log-analytics.`);
    if (input.secret !== undefined)
      throw new InputError(names.secret, `${names.secret} is for webhook subscriptions, not log-analytics.`);
    if (input.endpoint === undefined)
      throw new InputError(names.endpoint, `${names.endpoint} is required for a log-analytics subscription.`);
    const endpoint = parseDeliveryUrl(input.endpoint, names.endpoint).replace(/\/+$/, '');
    const ruleId = parseName(
      input.ruleId,
      names.ruleId,
      /^dcr-[0-9a-f]{32}$/i,
      'a data collection rule immutable ID (dcr-…)',
    );
    const stream = parseName(
      input.stream,
      names.stream,
      /^Custom-[A-Za-z0-9_]{1,100}$/,
      'a stream name like Custom-MyTable_CL',
    );
    return { record: { ...base, kind: 'log-analytics', endpoint, ruleId, stream }, generated: false };
  }
  if (input.url === undefined) throw new InputError(names.url, `${names.url} is required for a webhook subscription.`);
  for (const [value, field] of [
    [input.endpoint, names.endpoint],
    [input.ruleId, names.ruleId],
    [input.stream, names.stream],
  ] as const)
    if (value !== undefined) throw new InputError(field, `${field} is for log-analytics subscriptions.`);
  const url = parseDeliveryUrl(input.url, names.url);
  const given = input.secret !== undefined ? parseWebhookSecret(input.secret, names.secret) : undefined;
  return {
    record: { ...base, kind: 'webhook', url },
    secret: given ?? fresh.secret(),
    generated: given === undefined,
  };
}

/** A subscription ID as given by a caller: `sub-<uuid>`, any case. */
export function parseSubscriptionId(raw: string, field = 'subscriptionId'): string {
  const id = raw.trim().toLowerCase();
  if (!/^sub-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
    throw new InputError(field, `${field} must be a subscription ID (sub-<uuid>).`);
  return id;
}

/** Rank of a severity value as an API returned it (case-insensitive), or undefined when it is not a known level. */
export function severityRank(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const i = (SEVERITY_LEVELS as readonly string[]).indexOf(value.toLowerCase());
  return i < 0 ? undefined : i;
}

/** Whether an event passes a subscription's filters (design §9): tenants, min severity (unknown passes), types. */
export function matchesFilters(filters: SubscriptionFilters, entry: EventEntry): boolean {
  if (filters.tenants && !filters.tenants.includes(entry.tenantId.toLowerCase())) return false;
  if (filters.types && !filters.types.includes(entry.type)) return false;
  if (filters.minSeverity !== undefined) {
    const rank = severityRank(entry.severity);
    if (rank !== undefined && rank < SEVERITY_LEVELS.indexOf(filters.minSeverity)) return false;
  }
  return true;
}

/** Whether a subscription can ever want events of `tenantId` (its tenant filter). */
export function wantsTenant(filters: SubscriptionFilters, tenantId: string): boolean {
  return !filters.tenants || filters.tenants.includes(tenantId.toLowerCase());
}
