/**
 * The pure parts of the change feed (design §9): the event sequence clock, the diff of two stored versions of an
 * incident (`changedFields`/`previous`), truncation of oversized incidents, and the CloudEvent built from them.
 * Both the Table adapters and the in-memory fakes use these, so both record and render events the same way.
 */
import type {
  EventEntry,
  IncidentCloudEvent,
  IncidentEventData,
  IncidentEventType,
  JsonObject,
  SourceKind,
} from '../ports.js';

/** An incident whose JSON (UTF-8) exceeds this many bytes is sent without its alerts (design §9). */
export const MAX_EVENT_INCIDENT_BYTES = 1024 * 1024;

/** The top-level keys that hold a version's `lastUpdate…` instant: never listed in `changedFields`. */
export const LAST_UPDATE_KEYS: ReadonlySet<string> = new Set(['lastUpdateDateTime', 'lastUpdateTime']);

/**
 * The per-tenant event sequence: a hybrid logical clock. Each value is max(write time in microseconds since the
 * epoch, last value + 1), so it is strictly increasing for one writer, stays close to wall-clock time (gaps are
 * allowed), and is a safe integer until the year 2255 (2^53 µs).
 *
 * Across processes, crashes and clock skew it holds because the writer is seeded from what is stored (`seed`):
 * the tenant's event rows with a sequence at or above the writer's own "now" in microseconds. If there are none,
 * every stored sequence is below that now, and the clock never hands out less than it (it remembers the seed
 * instant as a floor, so a clock stepping back cannot go under it either). If a writer whose clock ran ahead left
 * sequences above our now, the largest of them is the floor. Either way the next value exceeds every stored one,
 * whatever the instances' clocks say. Only the tenant's lease holder writes; a stale second writer that picks the
 * same sequence collides on the event row's RowKey (the transaction is a create) and re-seeds.
 */
export class EventSequenceClock {
  private last: number;

  /**
   * @param floor the largest stored sequence at or above `seedMicros`, or undefined when there is none
   * @param seedMicros the writer's now (µs since the epoch) used for the seed query
   */
  constructor(floor: number | undefined, seedMicros: number) {
    this.last = Math.max(floor ?? 0, seedMicros - 1);
  }

  /** The next sequence for a version written at `nowMs` (ms since the epoch). */
  next(nowMs: number): number {
    const value = Math.max(Math.floor(nowMs) * 1000, this.last + 1);
    if (!Number.isSafeInteger(value)) throw new RangeError('The event sequence left the safe integer range.');
    this.last = value;
    return value;
  }

  /** The last value handed out (or the seed floor). */
  get current(): number {
    return this.last;
  }
}

/** Microseconds since the epoch of a Date (what EventSequenceClock counts in). */
export function toMicros(date: Date): number {
  return date.getTime() * 1000;
}

/** The stable event id of a version: `<tenantId>/<incidentId>/<lastUpdateTime>` (the API's own string). */
export function eventId(tenantId: string, incidentId: string, lastUpdateTime: string): string {
  return `${tenantId}/${incidentId}/${lastUpdateTime}`;
}

/** Set an own enumerable property (also for a key like `__proto__`, which plain assignment would not store). */
function setOwn(target: JsonObject, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(source).sort()) sorted[key] = canonical(source[key]);
    return sorted;
  }
  return value;
}

/** Equality of two JSON values regardless of object key order. */
export function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** An alert's identity: Graph `id`, legacy `alertId`; an alert without either is identified by its content. */
function alertKey(alert: unknown): string {
  if (alert !== null && typeof alert === 'object' && !Array.isArray(alert)) {
    const a = alert as Record<string, unknown>;
    const id = a.id ?? a.alertId;
    if (typeof id === 'string' || typeof id === 'number') return `id:${String(id)}`;
  }
  return `json:${JSON.stringify(canonical(alert))}`;
}

/**
 * Whether two `alerts` values differ when taken as sets keyed by alert id: the order of alerts never matters; an
 * alert added, removed, or changed under the same id does. Non-array values compare as plain JSON.
 */
export function alertsDiffer(a: unknown, b: unknown): boolean {
  if (!Array.isArray(a) || !Array.isArray(b)) return !sameJson(a, b);
  const index = (list: unknown[]) => {
    const m = new Map<string, string>();
    for (const alert of list) m.set(alertKey(alert), JSON.stringify(canonical(alert)));
    return m;
  };
  const left = index(a);
  const right = index(b);
  if (left.size !== right.size) return true;
  for (const [key, json] of left) if (right.get(key) !== json) return true;
  return false;
}

/** `changedFields` and `previous` of an update (design §9). */
export interface IncidentDiff {
  /** Top-level keys whose value differs from the previous version, sorted; never a `lastUpdate…` key. */
  readonly changedFields: string[];
  /** The previous version's values of `changedFields`, except `alerts` and keys the previous version lacked. */
  readonly previous: JsonObject;
}

/** Compare a version with the previous stored version of the same incident (top-level keys, alerts as a set). */
export function diffIncidents(previous: JsonObject, current: JsonObject): IncidentDiff {
  const keys = new Set([...Object.keys(previous), ...Object.keys(current)]);
  const changedFields: string[] = [];
  const before: JsonObject = {};
  for (const key of [...keys].sort()) {
    if (LAST_UPDATE_KEYS.has(key)) continue;
    const inPrevious = Object.prototype.hasOwnProperty.call(previous, key);
    const inCurrent = Object.prototype.hasOwnProperty.call(current, key);
    const differs =
      inPrevious !== inCurrent ||
      (key === 'alerts' ? alertsDiffer(previous[key], current[key]) : !sameJson(previous[key], current[key]));
    if (!differs) continue;
    changedFields.push(key);
    if (key !== 'alerts' && inPrevious) setOwn(before, key, previous[key]);
  }
  return { changedFields, previous: before };
}

/** UTF-8 bytes of a string, without Node's Buffer (the domain layer imports no node: modules). */
function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * The `incident` of an event: as stored when its JSON is at most 1 MiB; otherwise without `alerts`, flagged
 * `truncated` with `alertCount` (how many alerts were left out; 0 when `alerts` was not an array).
 */
export function eventIncident(incident: JsonObject): Pick<IncidentEventData, 'incident' | 'truncated' | 'alertCount'> {
  if (utf8Length(JSON.stringify(incident)) <= MAX_EVENT_INCIDENT_BYTES) return { incident };
  const rest: JsonObject = {};
  for (const [key, value] of Object.entries(incident)) if (key !== 'alerts') setOwn(rest, key, value);
  const alerts = incident.alerts;
  return { incident: rest, truncated: true, alertCount: Array.isArray(alerts) ? alerts.length : 0 };
}

/** The incident's title: Graph `displayName`, legacy `incidentName`. */
export function incidentTitle(incident: JsonObject): unknown {
  return incident.displayName ?? incident.incidentName;
}

/** What a CloudEvent is built from: the entry, its stored version and the previous stored version (if any). */
export interface EventVersions {
  readonly entry: EventEntry;
  readonly source: SourceKind;
  readonly incident: JsonObject;
  /** The previous stored version of the incident (the history row just before in version order), if any. */
  readonly previous?: JsonObject;
}

/**
 * The CloudEvent of a recorded version (design §9): `changedFields`/`previous` only for `incident.updated`, and
 * only when a previous version is stored (history retention may have removed it: then both are absent).
 */
export function buildCloudEvent(v: EventVersions): IncidentCloudEvent {
  const { entry, incident } = v;
  const update =
    entry.type === 'incident.updated' && v.previous !== undefined ? diffIncidents(v.previous, incident) : undefined;
  const data: IncidentEventData = {
    tenantId: entry.tenantId,
    incidentId: entry.incidentId,
    lastUpdateTime: entry.lastUpdateTime,
    source: v.source,
    sequence: entry.sequence,
    severity: incident.severity,
    status: incident.status,
    title: incidentTitle(incident),
    ...(update ? { changedFields: update.changedFields, previous: update.previous } : {}),
    ...eventIncident(incident),
  };
  return {
    specversion: '1.0',
    id: eventId(entry.tenantId, entry.incidentId, entry.lastUpdateTime),
    source: `/tenants/${entry.tenantId}`,
    type: entry.type,
    subject: `incidents/${entry.incidentId}`,
    time: entry.time,
    datacontenttype: 'application/json',
    data,
  };
}

/** The severity kept on an entry for subscription filters: the API's string, or undefined when it had none. */
export function entrySeverity(incident: JsonObject): string | undefined {
  return typeof incident.severity === 'string' ? incident.severity : undefined;
}

/** One version about to be written, as event typing needs to know it. */
export interface VersionToRecord {
  /** RowKey form of the incident ID. */
  readonly idKey: string;
  /** Fixed-width lastUpdate instant. */
  readonly lastUpdateKey: string;
}

/**
 * Order a write's new versions as their events are sequenced (by instant, then incident key: versions of one
 * incident get increasing sequences in version order) and type each: `incident.created` for the oldest version of
 * an incident that has no stored version (`hasStored` false), `incident.updated` for every other.
 */
export function typeVersions<V extends VersionToRecord>(
  versions: readonly V[],
  hasStored: (idKey: string) => boolean,
): { version: V; type: IncidentEventType }[] {
  const ordered = [...versions].sort((a, b) =>
    a.lastUpdateKey < b.lastUpdateKey
      ? -1
      : a.lastUpdateKey > b.lastUpdateKey
        ? 1
        : a.idKey < b.idKey
          ? -1
          : a.idKey > b.idKey
            ? 1
            : 0,
  );
  const seen = new Set<string>();
  return ordered.map((version) => {
    const type: IncidentEventType =
      seen.has(version.idKey) || hasStored(version.idKey) ? 'incident.updated' : 'incident.created';
    seen.add(version.idKey);
    return { version, type };
  });
}
