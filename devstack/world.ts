/**
 * DefenderWorld: the simulated Defender data behind the Graph and legacy simulators. One canonical incident
 * model per incident (see incidentModel.ts), generated deterministically from the seed and the tenant ID,
 * with times relative to the `now` captured at construction, and rendered on demand to either API's shape.
 */
import { graphIncident } from './graphShape.js';
import type { IncidentModel } from './incidentModel.js';
import { ASSIGNEES } from './incidentModel.js';
import { legacyIncident } from './legacyShape.js';
import { boundsFor, matchesClauses, type TimeClause } from './odataFilter.js';
import { Prng, hashSeeds } from './prng.js';
import { fixedAt, fixedNow, fixedToMs } from './simTime.js';
import { SortedIncidents, type TimeKey } from './sortedIncidents.js';
import {
  COMMENTS,
  CUSTOM_TAGS,
  INCIDENT_TEMPLATES,
  SYSTEM_TAGS,
  type Classification,
  type IncidentStatus,
  type Severity,
} from './worldTemplates.js';

export interface SimTenantSpec {
  tenantId: string; // GUID, lower case
  displayName?: string;
  incidents?: number; // seeded incidents, default 20 (deterministic from seed + tenantId)
  alertsPerIncident?: number; // default 2
  consent?: 'granted' | 'none' | 'revoked' | 'sp_missing' | 'no_roles'; // default 'granted'
}

export interface WorldOptions {
  seed?: number;
  /** Seeded incidents get lastUpdate times spread over [now - spreadHours, now - minAgeSeconds]. */
  spreadHours?: number;
  minAgeSeconds?: number;
  /** The `now` seeded times are relative to (default: the clock at construction). */
  now?: Date;
  /** What `mutate` and `addIncident` call "now" (default: the wall clock). */
  clock?: () => Date;
}

/** A filtered, ordered view of one tenant's incidents; pages are slices of it. */
export interface IncidentSelection {
  readonly total: number;
  page(skip: number, top: number): IncidentModel[];
}

export interface IncidentQuery {
  /** Clauses on `lastUpdate` / `createdAt` (already mapped from the API's field names). */
  readonly clauses: readonly TimeClause[];
  readonly orderBy: TimeKey;
  readonly descending: boolean;
}

interface TenantData {
  readonly spec: SimTenantSpec;
  readonly prng: Prng;
  readonly byUpdate: SortedIncidents;
  readonly byCreated: SortedIncidents;
  readonly byId: Map<number, IncidentModel>;
  nextId: number;
}

const HOUR_MS = 3_600_000;
const SEVERITIES: readonly Severity[] = ['informational', 'low', 'low', 'medium', 'medium', 'high'];
const RESOLUTIONS: readonly [Classification, string][] = [
  ['truePositive', 'multiStagedAttack'],
  ['truePositive', 'malware'],
  ['truePositive', 'phishing'],
  ['truePositive', 'compromisedAccount'],
  ['falsePositive', 'notMalicious'],
  ['falsePositive', 'notEnoughDataToValidate'],
  ['informationalExpectedActivity', 'securityTesting'],
  ['informationalExpectedActivity', 'lineOfBusinessApplication'],
];

export class DefenderWorld {
  readonly seed: number;
  readonly now: Date;
  private readonly spreadHours: number;
  private readonly minAgeSeconds: number;
  private readonly clock: () => Date;
  private readonly tenants = new Map<string, TenantData>();

  constructor(options: WorldOptions = {}) {
    this.seed = options.seed ?? 1;
    this.now = options.now ?? new Date();
    this.spreadHours = options.spreadHours ?? 48;
    this.minAgeSeconds = options.minAgeSeconds ?? 900;
    this.clock = options.clock ?? (() => new Date());
  }

  addTenant(spec: SimTenantSpec): void {
    const tenantId = spec.tenantId.toLowerCase();
    if (this.tenants.has(tenantId)) throw new Error(`Tenant ${tenantId} is already in the world`);
    const seedText = `${this.seed}:${tenantId}`;
    const data: TenantData = {
      spec: { ...spec, tenantId },
      prng: new Prng(seedText),
      byUpdate: new SortedIncidents('lastUpdate'),
      byCreated: new SortedIncidents('createdAt'),
      byId: new Map(),
      nextId: 1000 + (hashSeeds(seedText)[0] % 900_000),
    };
    this.tenants.set(tenantId, data);
    this.seedIncidents(data, spec.incidents ?? 20, spec.alertsPerIncident ?? 2);
  }

  tenantIds(): string[] {
    return [...this.tenants.keys()];
  }

  hasTenant(tenantId: string): boolean {
    return this.tenants.has(tenantId.toLowerCase());
  }

  displayName(tenantId: string): string | undefined {
    return this.tenants.get(tenantId.toLowerCase())?.spec.displayName;
  }

  incidentCount(tenantId: string): number {
    return this.tenants.get(tenantId.toLowerCase())?.byId.size ?? 0;
  }

  /** The truth for comparisons: exactly what Graph returns with $expand=alerts, in Graph's default order (createdDateTime desc). */
  graphIncidents(tenantId: string): Record<string, unknown>[] {
    return [...this.tenant(tenantId).byCreated.all()].reverse().map((i) => graphIncident(i, true));
  }

  /** The truth for the legacy API: exactly what /api/incidents returns, newest lastUpdateTime first. */
  legacyIncidents(tenantId: string): Record<string, unknown>[] {
    return [...this.tenant(tenantId).byUpdate.all()].reverse().map((i) => legacyIncident(i));
  }

  incident(tenantId: string, incidentId: string | number): IncidentModel | undefined {
    const id = typeof incidentId === 'number' ? incidentId : /^\d+$/.test(incidentId) ? Number(incidentId) : NaN;
    return this.tenants.get(tenantId.toLowerCase())?.byId.get(id);
  }

  /** Filter and order one tenant's incidents without copying more than the filter requires. */
  select(tenantId: string, query: IncidentQuery): IncidentSelection {
    const data = this.tenant(tenantId);
    const index = query.orderBy === 'lastUpdate' ? data.byUpdate : data.byCreated;
    const b = boundsFor(query.clauses, query.orderBy);
    const [start, end] = index.range(b.from, b.fromInclusive, b.to, b.toInclusive);
    const other: TimeKey = query.orderBy === 'lastUpdate' ? 'createdAt' : 'lastUpdate';
    const needsScan = query.clauses.some((c) => c.field === other);
    const scanned = needsScan
      ? index
          .all()
          .slice(start, end)
          .filter((i) => matchesClauses(query.clauses, other, i[other]))
      : undefined;
    const total = scanned ? scanned.length : end - start;
    const itemAt = (k: number): IncidentModel | undefined => (scanned ? scanned[k] : index.at(start + k));
    return {
      total,
      page(skip: number, top: number): IncidentModel[] {
        const out: IncidentModel[] = [];
        for (let n = skip; n < Math.min(total, skip + top); n++) {
          const item = itemAt(query.descending ? total - 1 - n : n);
          if (item) out.push(item);
        }
        return out;
      },
    };
  }

  /** Change an incident (status/assignedTo/comment…) and bump its lastUpdate to now (7 fractional digits). */
  mutate(tenantId: string, incidentId: string): void {
    const data = this.tenant(tenantId);
    const incident = this.incident(tenantId, incidentId);
    if (!incident) throw new Error(`No incident ${incidentId} in tenant ${tenantId}`);
    const prng = data.prng;
    const previous = incident.lastUpdate;
    let next = fixedNow(this.clock(), prng);
    // Keep versions strictly increasing even when the clock has not moved on.
    if (next <= previous) next = bumpTick(previous);
    this.applyChange(incident, prng, next);
    data.byUpdate.remove(incident, previous);
    incident.lastUpdate = next;
    data.byUpdate.insert(incident);
  }

  /** Add an incident whose lastUpdate is `lastUpdate` (may be in the past: a late-arriving incident). Returns its id. */
  addIncident(tenantId: string, options: { lastUpdate?: Date; sizeBytes?: number } = {}): string {
    const data = this.tenant(tenantId);
    const prng = data.prng;
    const lastUpdate = options.lastUpdate ? fixedNow(options.lastUpdate, prng) : fixedNow(this.clock(), prng);
    const createdMs = fixedToMs(lastUpdate) - prng.int(0, 2 * HOUR_MS);
    const createdAt = fixedAt(createdMs, prng) > lastUpdate ? lastUpdate : fixedAt(createdMs, prng);
    const incident = this.createIncident(data, data.nextId, createdAt, lastUpdate, data.spec.alertsPerIncident ?? 2);
    data.nextId += prng.int(1, 3);
    if (options.sizeBytes !== undefined) padToSize(incident, options.sizeBytes, prng);
    this.store(data, incident);
    return String(incident.id);
  }

  private tenant(tenantId: string): TenantData {
    const data = this.tenants.get(tenantId.toLowerCase());
    if (!data) throw new Error(`Tenant ${tenantId} is not in the world`);
    return data;
  }

  private seedIncidents(data: TenantData, count: number, alertsPerIncident: number): void {
    const prng = data.prng;
    const newest = this.now.getTime() - this.minAgeSeconds * 1000;
    const oldest = this.now.getTime() - this.spreadHours * HOUR_MS;
    const times = Array.from({ length: count }, () => {
      const updatedMs = oldest + prng.next() * Math.max(0, newest - oldest);
      const lastUpdate = fixedAt(updatedMs, prng);
      const created = fixedAt(updatedMs - prng.int(0, 72 * HOUR_MS), prng);
      return { lastUpdate, createdAt: created > lastUpdate ? lastUpdate : created };
    });
    // Defender numbers incidents in creation order.
    times.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
    for (const t of times) {
      const incident = this.createIncident(data, data.nextId, t.createdAt, t.lastUpdate, alertsPerIncident);
      data.nextId += prng.int(1, 3);
      this.store(data, incident);
    }
  }

  private createIncident(
    data: TenantData,
    id: number,
    createdAt: string,
    lastUpdate: string,
    alertCount: number,
  ): IncidentModel {
    const prng = data.prng;
    const roll = prng.next();
    const status: IncidentStatus =
      roll < 0.4
        ? 'active'
        : roll < 0.6
          ? 'inProgress'
          : roll < 0.95 || data.byId.size === 0
            ? 'resolved'
            : 'redirected';
    const [classification, determination] =
      status === 'resolved' ? prng.pick(RESOLUTIONS) : (['unknown', 'unknown'] as const);
    const comments = prng.chance(0.3)
      ? [
          {
            comment: prng.pick(COMMENTS),
            createdBy: prng.pick(ASSIGNEES),
            createdTime: fixedAt(fixedToMs(lastUpdate) - prng.int(0, HOUR_MS), prng, 7),
          },
        ]
      : [];
    return {
      tenantId: data.spec.tenantId,
      id,
      createdAt,
      lastUpdate,
      template: prng.int(0, INCIDENT_TEMPLATES.length - 1),
      status,
      severity: prng.pick(SEVERITIES),
      classification,
      determination,
      assignedTo: prng.chance(0.5) ? prng.pick(ASSIGNEES) : null,
      customTags: prng.pick(CUSTOM_TAGS),
      systemTags: prng.pick(SYSTEM_TAGS),
      comments,
      redirectIncidentId: status === 'redirected' ? this.someEarlierId(data, prng) : null,
      alertCount,
      alertSeed: `${this.seed}:${data.spec.tenantId}:${id}`,
      legacyUri: prng.chance(0.3),
    };
  }

  private someEarlierId(data: TenantData, prng: Prng): number | null {
    const index = data.byCreated;
    return index.length === 0 ? null : (index.at(prng.int(0, index.length - 1))?.id ?? null);
  }

  private store(data: TenantData, incident: IncidentModel): void {
    data.byId.set(incident.id, incident);
    data.byUpdate.insert(incident);
    data.byCreated.insert(incident);
  }

  private applyChange(incident: IncidentModel, prng: Prng, at: string): void {
    switch (incident.status) {
      case 'active':
        incident.status = 'inProgress';
        incident.assignedTo = prng.pick(ASSIGNEES);
        break;
      case 'inProgress': {
        const [classification, determination] = prng.pick(RESOLUTIONS);
        incident.status = 'resolved';
        incident.classification = classification;
        incident.determination = determination;
        break;
      }
      default:
        // Reopened (redirected incidents get a comment only).
        if (incident.status === 'resolved') {
          incident.status = 'active';
          incident.classification = 'unknown';
          incident.determination = 'unknown';
        }
    }
    incident.comments = [
      ...incident.comments,
      { comment: prng.pick(COMMENTS), createdBy: prng.pick(ASSIGNEES), createdTime: at },
    ];
  }
}

/** The next 100 ns tick after a fixed-width instant. */
function bumpTick(fixed: string): string {
  const ticks = Number(fixed.slice(20, 27)) + 1;
  if (ticks < 10_000_000) return `${fixed.slice(0, 20)}${String(ticks).padStart(7, '0')}Z`;
  return `${new Date(Date.parse(`${fixed.slice(0, 19)}Z`) + 1000).toISOString().slice(0, 19)}.0000000Z`;
}

const TEXT_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/=_-.,:;!?()[]';

/** Random words: varied, poorly compressible text, so a large incident stays large after gzip. */
function randomText(prng: Prng, length: number): string {
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const wordLength = prng.int(2, 11);
    let word = '';
    for (let i = 0; i < wordLength; i++) word += TEXT_ALPHABET[prng.int(0, TEXT_ALPHABET.length - 1)];
    parts.push(word);
    size += wordLength + 1;
  }
  return parts.join(' ').slice(0, length);
}

/** Grow the incident with analyst comments until its Graph JSON (alerts expanded) is about `sizeBytes`. */
function padToSize(incident: IncidentModel, sizeBytes: number, prng: Prng): void {
  const baseSize = Buffer.byteLength(JSON.stringify(graphIncident(incident, true)));
  let missing = sizeBytes - baseSize;
  const extra: IncidentModel['comments'] = [];
  const perCommentOverhead = 140;
  while (missing > perCommentOverhead) {
    const length = Math.min(prng.int(3000, 5000), missing - perCommentOverhead);
    extra.push({
      comment: randomText(prng, length),
      createdBy: prng.pick(ASSIGNEES),
      createdTime: incident.lastUpdate,
    });
    missing -= length + perCommentOverhead;
  }
  incident.comments = [...incident.comments, ...extra];
}
