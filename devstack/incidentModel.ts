/**
 * The canonical incident: one compact record per incident, rendered on demand to the Graph shape and to the
 * legacy shape. Alerts and their evidence are not stored: they are regenerated from the incident's alert seed
 * each time, so 100k incidents cost a few hundred bytes each.
 */
import { Prng } from './prng.js';
import { activityText, fixedAt, fixedToMs } from './simTime.js';
import {
  ALERT_TEMPLATES,
  ANALYSTS,
  FILE_NAMES,
  FIRST_NAMES,
  HOST_SUFFIXES,
  INCIDENT_TEMPLATES,
  OS_PLATFORMS,
  type AlertTemplate,
  type Classification,
  type EntityKind,
  type IncidentStatus,
  type Severity,
} from './worldTemplates.js';

export interface IncidentComment {
  readonly comment: string;
  readonly createdBy: string;
  /** As shown (7 digits). */
  readonly createdTime: string;
}

export interface IncidentModel {
  readonly tenantId: string;
  readonly id: number;
  /** Fixed-width instants. */
  readonly createdAt: string;
  lastUpdate: string;
  readonly template: number;
  status: IncidentStatus;
  readonly severity: Severity;
  classification: Classification;
  determination: string;
  assignedTo: string | null;
  readonly customTags: readonly string[];
  readonly systemTags: readonly string[];
  comments: IncidentComment[];
  redirectIncidentId: number | null;
  readonly alertCount: number;
  readonly alertSeed: string;
  /** The legacy API showed `incidentUri` on some incidents (observed, undocumented). */
  readonly legacyUri: boolean;
}

export interface DeviceAsset {
  readonly deviceId: string;
  readonly aadDeviceId: string | null;
  readonly dnsName: string;
  readonly os: (typeof OS_PLATFORMS)[number];
  readonly rbacGroupId: number;
  readonly rbacGroupName: string;
  readonly riskScore: 'low' | 'medium' | 'high';
  readonly firstSeen: string;
  readonly ip: string;
}

export interface UserAsset {
  readonly accountName: string;
  readonly domainName: string;
  readonly userSid: string;
  readonly aadUserId: string;
  readonly upn: string;
}

export interface FileAsset {
  readonly sha1: string;
  readonly sha256: string;
  readonly name: string;
  readonly path: string;
  readonly size: number;
}

/** What the alerts of one incident have in common (one device, one user, one file…). */
export interface IncidentAssets {
  readonly device: DeviceAsset;
  readonly user: UserAsset;
  readonly file: FileAsset;
  readonly remoteIp: string;
  readonly processId: number;
  readonly parentProcessId: number;
  readonly processCreated: string;
  readonly parentProcessCreated: string;
}

export interface AlertModel {
  readonly id: string;
  readonly providerAlertId: string;
  readonly template: AlertTemplate;
  readonly createdAt: string;
  readonly lastUpdate: string;
  readonly firstActivity: string;
  readonly lastActivity: string;
  readonly resolvedAt: string | null;
  readonly status: 'new' | 'inProgress' | 'resolved';
  readonly verdict: 'unknown' | 'suspicious' | 'malicious';
  readonly evidenceCreated: string;
  readonly assets: IncidentAssets;
}

function ipv4(prng: Prng): string {
  return `${prng.int(11, 223)}.${prng.int(0, 255)}.${prng.int(0, 255)}.${prng.int(1, 254)}`;
}

function sid(prng: Prng): string {
  return `S-1-5-21-${prng.int(1e9, 2e9)}-${prng.int(1e8, 9e8)}-${prng.int(1e9, 2e9)}-${prng.int(1000, 9999999)}`;
}

export function assetsOf(incident: IncidentModel): IncidentAssets {
  const prng = new Prng(`${incident.alertSeed}:assets`);
  const name = prng.pick(FIRST_NAMES);
  const host = `${name}${prng.int(1, 99)}x.${prng.pick(HOST_SUFFIXES)}`;
  const file = prng.pick(FILE_NAMES);
  const createdMs = fixedToMs(incident.createdAt);
  return {
    device: {
      deviceId: prng.hex(40),
      aadDeviceId: prng.chance(0.5) ? prng.guid() : null,
      dnsName: host,
      os: prng.pick(OS_PLATFORMS),
      rbacGroupId: prng.int(1, 99),
      rbacGroupName: prng.pick(['UnassignedGroup', 'WDATP-Ring0', 'Servers']),
      riskScore: prng.pick(['low', 'medium', 'high'] as const),
      firstSeen: fixedAt(createdMs - prng.int(30, 900) * 86_400_000, prng, 7),
      ip: ipv4(prng),
    },
    user: {
      accountName: name,
      domainName: prng.pick(['europe.corp.contoso', 'NT AUTHORITY', 'corp.fabrikam']),
      userSid: sid(prng),
      aadUserId: prng.guid(),
      upn: `${name}@contoso.com`,
    },
    file: {
      sha1: prng.hex(40),
      sha256: prng.hex(64),
      name: file.name,
      path: file.path,
      size: prng.int(2_000, 9_000_000),
    },
    remoteIp: ipv4(prng),
    processId: prng.int(100, 9999),
    parentProcessId: prng.int(4, 999),
    processCreated: fixedAt(createdMs - prng.int(60, 3600) * 1000, prng, 7),
    parentProcessCreated: fixedAt(createdMs - prng.int(3601, 86_400) * 1000, prng, 7),
  };
}

function alertIds(style: AlertTemplate['idStyle'], prng: Prng): { id: string; providerAlertId: string } {
  if (style === 'mde') {
    const id = `da${prng.int(637_000_000, 639_999_999)}${String(prng.int(0, 999_999_999)).padStart(9, '0')}_${-prng.int(1e8, 2e9)}`;
    return { id, providerAlertId: id };
  }
  const guid = prng.guid();
  if (style === 'mdo') {
    const provider = `${guid.slice(0, 8)}-${guid.slice(9, 13)}-${guid.slice(14, 18)}-${guid.slice(19, 23)}-${guid.slice(24)}`;
    return { id: `fa${provider}`, providerAlertId: provider };
  }
  return { id: `ca${guid.toUpperCase()}`, providerAlertId: guid.toUpperCase() };
}

/** The incident's alerts, regenerated deterministically from its seed and current state. */
export function alertsOf(incident: IncidentModel): AlertModel[] {
  const prng = new Prng(incident.alertSeed);
  const assets = assetsOf(incident);
  const plan = INCIDENT_TEMPLATES[incident.template]?.alerts ?? [0];
  const createdMs = fixedToMs(incident.createdAt);
  const updatedMs = fixedToMs(incident.lastUpdate);
  const alerts: AlertModel[] = [];
  for (let i = 0; i < incident.alertCount; i++) {
    const template = ALERT_TEMPLATES[plan[i % plan.length] ?? 0] as AlertTemplate;
    const ids = alertIds(template.idStyle, prng);
    const created = Math.min(createdMs - prng.int(100, 2000) + i * prng.int(0, 600_000), updatedMs);
    const lastUpdate = Math.min(created + prng.int(1_000, 6 * 3_600_000), updatedMs);
    const firstActivity = created - prng.int(60_000, 7_200_000);
    const lastActivity = firstActivity + prng.int(0, 120_000);
    const open = prng.chance(0.5) ? 'new' : 'inProgress';
    const resolved = incident.status === 'resolved' || incident.status === 'redirected';
    const lastUpdateFixed = fixedAt(lastUpdate, prng);
    alerts.push({
      ...ids,
      template,
      createdAt: fixedAt(created, prng, 7),
      lastUpdate: lastUpdateFixed,
      firstActivity: activityText(firstActivity, prng),
      lastActivity: activityText(lastActivity, prng),
      resolvedAt: resolved ? lastUpdateFixed : null,
      status: resolved ? 'resolved' : open,
      verdict: prng.pick(['unknown', 'suspicious', 'malicious'] as const),
      evidenceCreated: fixedAt(created + prng.int(0, 600_000), prng, 7),
      assets,
    });
  }
  return alerts;
}

export const ENTITY_KINDS_WITH_DEVICE: ReadonlySet<EntityKind> = new Set(['file', 'process', 'registryKey']);

/** Analysts a mutation may assign. */
export const ASSIGNEES = ANALYSTS;
