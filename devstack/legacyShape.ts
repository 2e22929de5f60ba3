/**
 * Renders the canonical incident in the legacy Microsoft 365 Defender `/api/incidents` shape: PascalCase enums,
 * numeric IDs, timestamps with trailing zeros trimmed (varying precision), alerts always included with
 * `devices` (`mdatpDeviceId`) and `entities` — in the documented all-fields form, or in the sparse form
 * observed live for Office 365 alerts (with `providerAlertId`/`detectorId`, and `incidentUri` on some incidents).
 */
import { alertsOf, type AlertModel, type IncidentModel } from './incidentModel.js';
import { trimmedText } from './simTime.js';
import { INCIDENT_TEMPLATES, type EntityKind } from './worldTemplates.js';

type Json = Record<string, unknown>;

const pascal = (value: string) => value.charAt(0).toUpperCase() + value.slice(1);

/** Graph determination → legacy determination (`unknown` was `NotAvailable`). */
function legacyDetermination(value: string): string {
  return value === 'unknown' ? 'NotAvailable' : pascal(value);
}

export function legacyIncident(incident: IncidentModel): Json {
  const template = INCIDENT_TEMPLATES[incident.template];
  return {
    incidentId: incident.id,
    ...(incident.legacyUri
      ? { incidentUri: `https://security.microsoft.com/incidents/${incident.id}?tid=${incident.tenantId}` }
      : {}),
    redirectIncidentId: incident.redirectIncidentId,
    incidentName: template?.title ?? 'Incident',
    createdTime: trimmedText(incident.createdAt),
    lastUpdateTime: trimmedText(incident.lastUpdate),
    assignedTo: incident.assignedTo,
    classification: pascal(incident.classification),
    determination: legacyDetermination(incident.determination),
    status: pascal(incident.status),
    severity: pascal(incident.severity),
    tags: [...incident.customTags],
    comments: incident.comments.map((c) => ({
      comment: c.comment,
      createdBy: c.createdBy,
      createdTime: c.createdTime,
    })),
    alerts: alertsOf(incident).map((alert) => legacyAlert(incident, alert)),
  };
}

function legacyAlert(incident: IncidentModel, alert: AlertModel): Json {
  const t = alert.template;
  const resolved = alert.status === 'resolved';
  const hasDevice = t.entities.includes('device');
  return {
    alertId: alert.id,
    ...(t.sparseLegacyEntities ? { providerAlertId: alert.providerAlertId } : {}),
    incidentId: incident.id,
    serviceSource: t.legacyServiceSource,
    creationTime: trimmedText(alert.createdAt),
    lastUpdatedTime: trimmedText(alert.lastUpdate),
    resolvedTime: alert.resolvedAt === null ? null : trimmedText(alert.resolvedAt),
    firstActivity: alert.firstActivity,
    lastActivity: alert.lastActivity,
    title: t.title,
    description: t.description,
    category: t.category,
    status: pascal(alert.status),
    severity: pascal(t.severity),
    investigationId: null,
    investigationState: t.investigationState,
    classification: resolved ? pascal(incident.classification) : null,
    determination: resolved ? legacyDetermination(incident.determination) : null,
    detectionSource: t.legacyDetectionSource,
    ...(t.sparseLegacyEntities ? { detectorId: t.detectorId } : {}),
    assignedTo: incident.assignedTo,
    actorName: null,
    threatFamilyName: t.threatFamilyName,
    mitreTechniques: [...t.mitreTechniques],
    devices: hasDevice ? [legacyDevice(alert)] : [],
    entities: t.entities
      .filter((kind) => kind !== 'device')
      .map((kind) => (t.sparseLegacyEntities ? sparseEntity(kind, alert) : fullEntity(kind, alert, hasDevice))),
  };
}

function legacyDevice(alert: AlertModel): Json {
  const d = alert.assets.device;
  return {
    mdatpDeviceId: d.deviceId,
    aadDeviceId: d.aadDeviceId,
    deviceDnsName: d.dnsName,
    osPlatform: d.os.legacy,
    version: d.os.version,
    osProcessor: 'x64',
    osBuild: d.os.build,
    healthStatus: 'Active',
    riskScore: pascal(d.riskScore),
    rbacGroupName: d.rbacGroupName,
    rbacGroupId: d.rbacGroupId,
    firstSeen: d.firstSeen,
  };
}

const FULL_ENTITY_FIELDS = [
  'sha1',
  'sha256',
  'fileName',
  'filePath',
  'processId',
  'processCommandLine',
  'processCreationTime',
  'parentProcessId',
  'parentProcessCreationTime',
  'ipAddress',
  'url',
  'accountName',
  'domainName',
  'userSid',
  'aadUserId',
  'userPrincipalName',
  'mailboxDisplayName',
  'mailboxAddress',
  'clusterBy',
  'sender',
  'recipient',
  'subject',
  'deliveryAction',
  'securityGroupId',
  'securityGroupName',
  'registryHive',
  'registryKey',
  'registryValueType',
  'registryValue',
  'deviceId',
] as const;

const LEGACY_ENTITY_TYPE: Record<Exclude<EntityKind, 'device'>, string> = {
  file: 'File',
  process: 'Process',
  user: 'User',
  ip: 'Ip',
  mailbox: 'Mailbox',
  mailMessage: 'MailMessage',
  mailCluster: 'MailCluster',
  registryKey: 'Registry',
};

function entityValues(kind: Exclude<EntityKind, 'device'>, alert: AlertModel): Json {
  const a = alert.assets;
  switch (kind) {
    case 'file':
      return { sha1: a.file.sha1, sha256: a.file.sha256, fileName: a.file.name, filePath: a.file.path };
    case 'process':
      return {
        sha1: a.file.sha1,
        sha256: a.file.sha256,
        fileName: a.file.name,
        filePath: a.file.path,
        processId: a.processId,
        processCommandLine: `"${a.file.name}"`,
        processCreationTime: a.processCreated,
        parentProcessId: a.parentProcessId,
        parentProcessCreationTime: a.parentProcessCreated,
      };
    case 'user':
      return {
        accountName: a.user.accountName,
        domainName: a.user.domainName,
        userSid: a.user.userSid,
        aadUserId: a.user.aadUserId,
        userPrincipalName: a.user.upn,
      };
    case 'ip':
      return { ipAddress: a.remoteIp };
    case 'mailbox':
      return {
        accountName: a.user.accountName,
        userSid: a.user.userSid,
        aadUserId: a.user.aadUserId,
        userPrincipalName: a.user.upn,
        mailboxDisplayName: `SE  ${a.user.accountName.toUpperCase()} User`,
        mailboxAddress: a.user.upn,
      };
    case 'mailMessage':
      return {
        userPrincipalName: a.user.upn,
        sender: 'pov@swimlane.ai',
        recipient: a.user.upn,
        subject: 'WARNINGIs this a Phishing Email?',
        internetMessageId: `<${a.file.sha1.slice(0, 24).toUpperCase()}@${a.device.dnsName}>`,
        deliveryAction: 'Blocked',
      };
    case 'mailCluster':
      return {
        clusterBy: 'Subject;SenderIp;AntispamDirection;ContentType',
        clusterByValue: `WARNINGIs this a Phishing Email?;${a.remoteIp};1;1`,
        emailCount: 1 + (a.processId % 400),
      };
    case 'registryKey':
      return {
        registryHive: 'HKEY_LOCAL_MACHINE',
        registryKey: 'SYSTEM\\CONTROLSET001\\CONTROL\\WMI\\AUTOLOGGER\\SENSEAUDITLOGGER',
        registryValueType: null,
        registryValue: null,
      };
  }
}

/** The documented form: every field present, null when it does not apply. */
function fullEntity(kind: Exclude<EntityKind, 'device'>, alert: AlertModel, hasDevice: boolean): Json {
  const values = entityValues(kind, alert);
  const entity: Json = { entityType: LEGACY_ENTITY_TYPE[kind] };
  for (const field of FULL_ENTITY_FIELDS) entity[field] = field in values ? values[field] : null;
  if (hasDevice && (kind === 'file' || kind === 'process' || kind === 'registryKey'))
    entity.deviceId = alert.assets.device.deviceId;
  return entity;
}

/** The form observed live: only the fields that apply, plus evidence time, verdict and remediation. */
function sparseEntity(kind: Exclude<EntityKind, 'device'>, alert: AlertModel): Json {
  return {
    entityType: LEGACY_ENTITY_TYPE[kind],
    evidenceCreationTime: trimmedText(alert.evidenceCreated),
    verdict: pascal(alert.verdict),
    remediationStatus: 'None',
    ...entityValues(kind, alert),
  };
}
