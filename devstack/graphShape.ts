/**
 * Renders the canonical incident in the Microsoft Graph v1.0 shape (`microsoft.graph.security.incident` and
 * `alert`), field order and oddities as in the documented samples: camelCase enums, 7-digit timestamps for
 * created/lastUpdate, activity times in whatever precision they were observed, U+FFFD in recommendedActions.
 */
import { alertsOf, type AlertModel, type IncidentModel } from './incidentModel.js';
import { INCIDENT_TEMPLATES, RECOMMENDED_ACTIONS, type EntityKind } from './worldTemplates.js';

type Json = Record<string, unknown>;

const webUrl = (kind: 'incidents' | 'alerts', id: string | number, tenantId: string) =>
  `https://security.microsoft.com/${kind}/${id}?tid=${tenantId}`;

export function graphIncident(incident: IncidentModel, expandAlerts: boolean): Json {
  const template = INCIDENT_TEMPLATES[incident.template];
  const body: Json = {
    '@odata.type': '#microsoft.graph.security.incident',
    id: String(incident.id),
    incidentWebUrl: webUrl('incidents', incident.id, incident.tenantId),
    redirectIncidentId: incident.redirectIncidentId === null ? null : String(incident.redirectIncidentId),
    tenantId: incident.tenantId,
    displayName: template?.title ?? 'Incident',
    createdDateTime: incident.createdAt,
    lastUpdateDateTime: incident.lastUpdate,
    assignedTo: incident.assignedTo,
    classification: incident.classification,
    determination: incident.determination,
    status: incident.status,
    severity: incident.severity,
    customTags: [...incident.customTags],
    comments: incident.comments.map((c) => ({
      comment: c.comment,
      createdBy: c.createdBy,
      createdTime: c.createdTime,
    })),
    systemTags: [...incident.systemTags],
    description: template?.description ?? '',
  };
  if (expandAlerts) body.alerts = graphAlerts(incident);
  return body;
}

export function graphAlerts(incident: IncidentModel): Json[] {
  return alertsOf(incident).map((alert) => graphAlert(incident, alert));
}

function graphAlert(incident: IncidentModel, alert: AlertModel): Json {
  const t = alert.template;
  const resolved = alert.status === 'resolved';
  return {
    '@odata.type': '#microsoft.graph.security.alert',
    id: alert.id,
    providerAlertId: alert.providerAlertId,
    incidentId: String(incident.id),
    status: alert.status,
    severity: t.severity,
    classification: resolved ? incident.classification : 'unknown',
    determination: resolved ? incident.determination : 'unknown',
    serviceSource: t.graphServiceSource,
    detectionSource: t.graphDetectionSource,
    detectorId: t.detectorId,
    tenantId: incident.tenantId,
    title: t.title,
    description: t.description,
    recommendedActions: t.idStyle === 'mde' ? RECOMMENDED_ACTIONS : '',
    category: t.category,
    assignedTo: incident.assignedTo,
    alertWebUrl: webUrl('alerts', alert.id, incident.tenantId),
    incidentWebUrl: webUrl('incidents', incident.id, incident.tenantId),
    actorDisplayName: null,
    threatDisplayName: t.threatFamilyName,
    threatFamilyName: t.threatFamilyName,
    mitreTechniques: [...t.mitreTechniques],
    createdDateTime: alert.createdAt,
    lastUpdateDateTime: alert.lastUpdate,
    resolvedDateTime: alert.resolvedAt,
    firstActivityDateTime: alert.firstActivity,
    lastActivityDateTime: alert.lastActivity,
    comments: [],
    evidence: t.entities.map((kind) => graphEvidence(kind, alert)),
  };
}

function evidenceBase(type: string, alert: AlertModel): Json {
  return {
    '@odata.type': `#microsoft.graph.security.${type}`,
    createdDateTime: alert.evidenceCreated,
    verdict: alert.verdict,
    remediationStatus: 'none',
    remediationStatusDetails: null,
  };
}

function tagsPart(roles: string[] = [], detailedRoles: string[] = []): Json {
  return { roles, detailedRoles, tags: [] };
}

function fileDetails(alert: AlertModel): Json {
  const f = alert.assets.file;
  return {
    sha1: f.sha1,
    sha256: f.sha256,
    fileName: f.name,
    filePath: f.path,
    fileSize: f.size,
    filePublisher: 'Microsoft Corporation',
    signer: null,
    issuer: null,
  };
}

function userAccount(alert: AlertModel): Json {
  const u = alert.assets.user;
  return {
    accountName: u.accountName,
    domainName: u.domainName,
    userSid: u.userSid,
    azureAdUserId: u.aadUserId,
    userPrincipalName: u.upn,
  };
}

function graphEvidence(kind: EntityKind, alert: AlertModel): Json {
  const a = alert.assets;
  switch (kind) {
    case 'device':
      return {
        ...evidenceBase('deviceEvidence', alert),
        firstSeenDateTime: a.device.firstSeen,
        mdeDeviceId: a.device.deviceId,
        azureAdDeviceId: a.device.aadDeviceId,
        deviceDnsName: a.device.dnsName,
        osPlatform: a.device.os.graph,
        osBuild: a.device.os.build,
        version: a.device.os.version,
        healthStatus: 'active',
        riskScore: a.device.riskScore,
        rbacGroupId: a.device.rbacGroupId,
        rbacGroupName: a.device.rbacGroupName,
        onboardingStatus: 'onboarded',
        defenderAvStatus: 'unknown',
        ipInterfaces: [a.device.ip],
        loggedOnUsers: [],
        ...tagsPart(['compromised'], ['Main device']),
      };
    case 'file':
      return {
        ...evidenceBase('fileEvidence', alert),
        detectionStatus: 'detected',
        mdeDeviceId: a.device.deviceId,
        ...tagsPart([], ['Referred in command line']),
        fileDetails: fileDetails(alert),
      };
    case 'process':
      return {
        ...evidenceBase('processEvidence', alert),
        processId: a.processId,
        parentProcessId: a.parentProcessId,
        processCommandLine: `"${a.file.name}"`,
        processCreationDateTime: a.processCreated,
        parentProcessCreationDateTime: a.parentProcessCreated,
        detectionStatus: 'detected',
        mdeDeviceId: a.device.deviceId,
        ...tagsPart(),
        imageFile: fileDetails(alert),
        parentProcessImageFile: {
          sha1: null,
          sha256: null,
          fileName: 'services.exe',
          filePath: 'C:\\Windows\\System32',
          fileSize: 731744,
          filePublisher: 'Microsoft Corporation',
          signer: null,
          issuer: null,
        },
        userAccount: userAccount(alert),
      };
    case 'registryKey':
      return {
        ...evidenceBase('registryKeyEvidence', alert),
        registryKey: 'SYSTEM\\CONTROLSET001\\CONTROL\\WMI\\AUTOLOGGER\\SENSEAUDITLOGGER',
        registryHive: 'HKEY_LOCAL_MACHINE',
        ...tagsPart(),
      };
    case 'user':
      return { ...evidenceBase('userEvidence', alert), ...tagsPart(), userAccount: userAccount(alert) };
    case 'ip':
      return { ...evidenceBase('ipEvidence', alert), ...tagsPart(), ipAddress: a.remoteIp, countryLetterCode: null };
    case 'mailbox':
      return {
        ...evidenceBase('mailboxEvidence', alert),
        ...tagsPart(),
        primaryAddress: a.user.upn,
        displayName: `SE  ${a.user.accountName.toUpperCase()} User`,
        userAccount: userAccount(alert),
      };
    case 'mailMessage':
      return {
        ...evidenceBase('analyzedMessageEvidence', alert),
        ...tagsPart(),
        internetMessageId: `<${a.file.sha1.slice(0, 24).toUpperCase()}@${a.device.dnsName}>`,
        subject: 'WARNINGIs this a Phishing Email?',
        recipientEmailAddress: a.user.upn,
        p1Sender: { emailAddress: 'pov@swimlane.ai', displayName: null, domainName: 'swimlane.ai' },
        deliveryAction: 'blocked',
        senderIp: a.remoteIp,
      };
    case 'mailCluster':
      return {
        ...evidenceBase('mailClusterEvidence', alert),
        ...tagsPart(),
        clusterBy: 'Subject;SenderIp;AntispamDirection;ContentType',
        clusterByValue: `WARNINGIs this a Phishing Email?;${a.remoteIp};1;1`,
        emailCount: 1 + (a.processId % 400),
      };
  }
}
