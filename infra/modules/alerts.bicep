metadata description = 'Operator alerting and the operator workbook over the telemetry the collector sends (issue 12): an action group that emails the operator, four scheduled-query alert rules on Application Insights (no successful run, a tenant failing or refused, events dead-lettered, the partner credential expiring), and an Azure Monitor workbook. The KQL reads the custom dimensions the collector emits (README, Telemetry).'

@description('Required. Prefix of every resource name here (the deployment\'s resource token).')
param namePrefix string

@description('Required. Azure region of the alert rules and the workbook (the action group is global).')
param location string

@description('Optional. Tags applied to every resource.')
param tags object = {}

@description('Required. Resource ID of the Application Insights component the rules and the workbook query.')
param appInsightsId string

@description('Required. E-mail address of the operator the action group notifies.')
@minLength(3)
param alertEmail string

@description('Optional. Minutes without a successful collection run before the staleness alert fires (STALE_AFTER_MINUTES).')
@minValue(15)
@maxValue(1380)
param staleAfterMinutes int = 150

@description('Optional. Days before the partner credential expires from which the expiry alert fires.')
@minValue(1)
@maxValue(90)
param expiryWarningDays int = 30

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'collector'
    enabled: true
    emailReceivers: [
      {
        name: 'operator'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Every rule reads App Insights `traces`: the collector's log records, one custom dimension per field.
var rules = [
  {
    key: 'no-successful-run'
    displayName: 'Collector: no successful run'
    description: 'No collection run finished successfully (at least one tenant collected, or none failed) in the last ${staleAfterMinutes} minutes (STALE_AFTER_MINUTES): the timer, the queue worker or the partner credential is broken. Check /api/health and the run.finished events.'
    severity: 1
    evaluationFrequency: 'PT15M'
    windowSize: 'P1D'
    query: 'traces\n| where tostring(customDimensions.event) == "run.finished"\n| where toint(customDimensions.tenantsOk) > 0 or toint(customDimensions.tenantsFailed) == 0\n| summarize lastSuccess = max(timestamp)\n| where isnull(lastSuccess) or lastSuccess < ago(${staleAfterMinutes}m)'
  }
  {
    key: 'tenant-failing'
    displayName: 'Collector: tenant failing or credential refused'
    description: 'A tenant reached status failing (consecutive failed runs) or credential_error (the partner credential or the token was refused). The tenantId and errorCode dimensions say which and why; the status page names the fix.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| extend event = tostring(customDimensions.event), status = tostring(customDimensions.status), kind = tostring(customDimensions.kind)\n| where (event == "tenant.failure_recorded" and status in ("failing", "credential_error")) or (event == "tenant.failed" and kind == "credential_error")\n| summarize failures = count() by tenantId = tostring(customDimensions.tenantId), errorCode = tostring(customDimensions.errorCode)'
  }
  {
    key: 'events-deadlettered'
    displayName: 'Collector: incident events dead-lettered'
    description: 'Incident events were dead-lettered after their last delivery attempt (delivery.deadlettered). List them with "incident-collector subscriptions deadletters <id>", fix the receiver, then replay.'
    severity: 2
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    query: 'traces\n| where tostring(customDimensions.event) == "delivery.deadlettered"\n| summarize deadLettered = count() by subscriptionId = tostring(customDimensions.subscriptionId), errorCode = tostring(customDimensions.errorCode)'
  }
  {
    key: 'credential-expiring'
    displayName: 'Collector: partner credential expires soon'
    description: 'The partner credential (Key Vault secret or certificate) expires within ${expiryWarningDays} days, or has expired, as read by the last run (credential.read). Rotate it (README, rotation steps).'
    severity: 2
    evaluationFrequency: 'PT1H'
    windowSize: 'P1D'
    query: 'traces\n| where tostring(customDimensions.event) == "credential.read"\n| summarize arg_max(timestamp, customDimensions)\n| extend daysLeft = todouble(customDimensions.credentialDaysLeft)\n| where isnotnull(daysLeft) and daysLeft <= ${expiryWarningDays}\n| project timestamp, daysLeft, credentialKind = tostring(customDimensions.credentialKind), expiresOn = tostring(customDimensions.credentialExpiresOn)'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for rule in rules: {
    name: 'sqr-${namePrefix}-${rule.key}'
    location: location
    tags: tags
    kind: 'LogAlert'
    // Each rule queries as its own identity, granted Reader on the component only (main.bicep, roleAssignments).
    identity: {
      type: 'SystemAssigned'
    }
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      scopes: [
        appInsightsId
      ]
      criteria: {
        allOf: [
          {
            query: rule.query
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: [
          actionGroup.id
        ]
      }
    }
  }
]

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(resourceGroup().id, namePrefix, 'collector-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Defender incident collector'
    category: 'workbook'
    sourceId: appInsightsId
    version: 'Notebook/1.0'
    serializedData: loadTextContent('collectorWorkbook.json')
  }
}

@description('Resource ID of the action group the rules notify.')
output actionGroupId string = actionGroup.id

@description('Names of the scheduled-query alert rules.')
output alertRuleNames string[] = [for (rule, i) in rules: alertRules[i].name]

@description('Principal IDs of the rules\' system-assigned identities, in the order of alertRuleNames (each needs Reader on the component).')
output rulePrincipalIds string[] = [for (rule, i) in rules: alertRules[i].identity.principalId]

@description('Resource ID of the operator workbook.')
output workbookId string = workbook.id
