metadata name = 'Defender incident collector'
metadata description = 'A locked-down, serverless collector of Microsoft Defender incidents across customer tenants: Function App (Flex Consumption, Node 22) with a user-assigned identity, Entra-only Storage, an RBAC Key Vault for the partner app secret, an RBAC Key Vault of its own for webhook subscription secrets, Entra-only Application Insights, and optionally Log Analytics delivery (data collection endpoint, rule and custom table).'

targetScope = 'resourceGroup'

// ---------- Parameters ----------

@description('Required. Name of the environment (the azd environment name). Feeds the resource token and the azd-env-name tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Optional. Azure region of every resource. Must offer the Flex Consumption plan.')
param location string = resourceGroup().location

@description('Required. Application (client) ID of the partner\'s multi-tenant app registration that customers consent to.')
@minLength(36)
@maxLength(36)
param partnerClientId string

@description('Optional. Name of the Key Vault secret that holds the partner app\'s client secret. The value is set by the operator, never by this template.')
@minLength(1)
@maxLength(127)
param partnerSecretName string = 'partner-client-secret'

@description('Optional. How the collector proves the partner app (PARTNER_CREDENTIAL): federated (recommended: the app trusts this deployment\'s user-assigned identity through a federated credential, no secret exists), certificate (a Key Vault certificate), or secret (a Key Vault client secret, the old mode).')
@allowed([
  'federated'
  'certificate'
  'secret'
])
param partnerCredentialKind string = 'federated'

@description('Optional. Name of the Key Vault certificate the partner app trusts, for partnerCredentialKind = certificate (PARTNER_CERTIFICATE_NAME).')
@minLength(1)
@maxLength(127)
param partnerCertificateName string = 'partner-certificate'

@description('Optional. Incident source: graph (Microsoft Graph /security/incidents), m365d (legacy Microsoft 365 Defender API, stops 2027-02-01) or auto (per tenant: Graph once its admin consented to it, else the legacy API). A tenant\'s own source column wins.')
@allowed([
  'graph'
  'm365d'
  'auto'
])
param incidentSource string = 'graph'

@description('Optional. Microsoft cloud of the customer tenants; sets the login and API endpoints the app uses.')
@allowed([
  'public'
  'gcc'
  'gcchigh'
  'dod'
])
param cloud string = 'public'

@description('Optional. NCRONTAB schedule (six fields, UTC) of the collection timer. Default: hourly on the hour.')
param collectSchedule string = '0 0 * * * *'

@description('Optional. Seconds before the checkpoint where each collection window starts again.')
@minValue(0)
@maxValue(604800)
param syncOverlapSeconds int = 600

@description('Optional. Seconds behind now where each collection window ends (incidents surface late).')
@minValue(0)
@maxValue(86400)
param syncLagSeconds int = 300

@description('Optional. Days back a tenant\'s first collection starts.')
@minValue(1)
@maxValue(3650)
param syncInitialLookbackDays int = 30

@description('Optional. Hours between re-probes of a skipped tenant (pending consent, revoked consent, missing permissions).')
@minValue(1)
@maxValue(8760)
param reprobeHours int = 24

@description('Optional. Tenants one process collects at once.')
@minValue(1)
@maxValue(256)
param tenantConcurrency int = 24

@description('Optional. Minutes the newest finished run may be old before health is unhealthy (STALE_AFTER_MINUTES).')
@minValue(1)
@maxValue(10080)
param staleAfterMinutes int = 150

@description('Optional. Days of incident history kept; older versions are removed daily, never a latest version or one with undelivered events (HISTORY_RETENTION_DAYS). 0 (default): keep every version.')
@minValue(0)
@maxValue(36500)
param historyRetentionDays int = 0

@description('Optional. Client ID of an Entra app registration (this tenant, ID tokens enabled, redirect URI https://<app>/.auth/login/aad/callback) that operators sign in with before any page or API except /api/consent/callback and /api/health. Empty (default): built-in sign-in off.')
param operatorSignInClientId string = ''

@description('Optional. Upper bound of Flex Consumption instances.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Optional. Memory per Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Replication of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param storageSkuName string = 'Standard_LRS'

@description('Optional. Days the Log Analytics workspace keeps logs.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Required. E-mail address of the operator the collector\'s alerts go to (action group).')
@minLength(3)
param alertEmail string

@description('Optional. Object ID of the person or pipeline deploying (azd fills it in). It gets Key Vault Secrets Officer on the vault, and nothing else, so it can store the partner secret. Empty: no assignment.')
param deployerPrincipalId string = ''

@description('Optional. Kind of principal deployerPrincipalId is.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

@description('Optional. Purge protection on the webhook subscription-secrets vault (SUBSCRIPTION_VAULT_URL). On, a removed subscription\'s secret stays soft-deleted (unreadable, recoverable) for the retention period; Azure never lets it be turned off again.')
param subscriptionVaultPurgeProtection bool = true

@description('Optional. Deliver incident events to a Log Analytics workspace (e.g. the partner\'s Microsoft Sentinel) through the Logs Ingestion API: creates a data collection endpoint, a data collection rule, the custom table DefenderIncidents_CL in the workspace, and gives the app\'s identity Monitoring Metrics Publisher on the rule. Off: none of these exist.')
param logAnalyticsDelivery bool = false

@description('Optional. Resource ID of the Log Analytics workspace that receives the incidents, with logAnalyticsDelivery (in any resource group or subscription; the deployer needs write access to it to create the table). Empty: the collector\'s own workspace.')
param logAnalyticsWorkspaceId string = ''

@description('Optional. Region of the data collection endpoint and rule, with logAnalyticsDelivery: the region of that workspace.')
param logAnalyticsLocation string = location

@description('Optional. Tags applied to every resource, in addition to azd-env-name.')
param tags object = {}

// ---------- Names ----------

// One token per (subscription, resource group, environment): names are stable across redeployments and unique
// across environments. Key Vault and Storage names are global, so the token is part of them.
var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName })
var names = {
  identity: 'id-${resourceToken}'
  storage: 'st${resourceToken}'
  keyVault: 'kv-${resourceToken}'
  subscriptionVault: 'kvsub-${resourceToken}'
  dataCollectionEndpoint: 'dce-${resourceToken}'
  dataCollectionRule: 'dcr-${resourceToken}'
  workspace: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-${resourceToken}'
  deploymentContainer: 'app-package-${resourceToken}'
}

// The collector's own storage objects (the Functions host creates its own blobs and queues beside them).
var queueNames = [
  'tenant-collect'
  'tenant-collect-poison'
]
var tableNames = [
  'Tenants'
  'Incidents'
  'IncidentHistory'
  'Runs'
  'PayloadChunks'
  'Leases'
  'ConsentStates'
  'RejectedIncidents'
]

// Log Analytics delivery (design §9): the sender posts rows with these columns to the stream; the rule's
// transformation renames the two the workspace reserves (TenantId, Title) before they reach the table.
var incidentTableName = 'DefenderIncidents_CL'
var incidentStreamName = 'Custom-DefenderIncidents_CL'
var incidentStreamColumns = [
  { name: 'TimeGenerated', type: 'datetime' }
  { name: 'TenantId', type: 'string' }
  { name: 'IncidentId', type: 'string' }
  { name: 'LastUpdateTime', type: 'datetime' }
  { name: 'Source', type: 'string' }
  { name: 'EventType', type: 'string' }
  { name: 'Severity', type: 'string' }
  { name: 'Status', type: 'string' }
  { name: 'Title', type: 'string' }
  { name: 'ChangedFields', type: 'dynamic' }
  { name: 'Incident', type: 'dynamic' }
]
var incidentTransformKql = 'source | project-rename CustomerTenantId = TenantId, IncidentTitle = Title'
var incidentTableColumns = [
  { name: 'TimeGenerated', type: 'datetime', description: 'When the collector stored this incident version (event time).' }
  { name: 'CustomerTenantId', type: 'string', description: 'Customer tenant ID of the incident (the event\'s TenantId).' }
  { name: 'IncidentId', type: 'string', description: 'Incident ID in that tenant.' }
  { name: 'LastUpdateTime', type: 'datetime', description: 'The incident\'s own last-update time of this version.' }
  { name: 'Source', type: 'string', description: 'graph or m365d.' }
  { name: 'EventType', type: 'string', description: 'incident.created or incident.updated.' }
  { name: 'Severity', type: 'string', description: 'Severity as the API returned it.' }
  { name: 'Status', type: 'string', description: 'Status as the API returned it.' }
  { name: 'IncidentTitle', type: 'string', description: 'Title (Graph displayName / legacy incidentName; the event\'s Title).' }
  { name: 'ChangedFields', type: 'dynamic', description: 'incident.updated: top-level keys that changed.' }
  { name: 'Incident', type: 'dynamic', description: 'The incident as the API returned it.' }
]
var deliveryWorkspaceId = empty(logAnalyticsWorkspaceId)
  ? resourceId('Microsoft.OperationalInsights/workspaces', names.workspace)
  : logAnalyticsWorkspaceId
var deliveryWorkspaceParts = split(deliveryWorkspaceId, '/')

// Built-in role definition IDs (the same in every tenant and cloud).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7'
}

// ---------- Resources ----------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: names.identity
    location: location
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: names.storage
    location: location
    tags: allTags
    skuName: storageSkuName
    deploymentContainerName: names.deploymentContainer
    queueNames: queueNames
    tableNames: tableNames
  }
}

module keyVault 'modules/keyVault.bicep' = {
  name: 'keyVault'
  params: {
    name: names.keyVault
    location: location
    tags: allTags
  }
}

// Webhook subscription secrets (design §9): a vault of their own, the only one the app's identity may write.
module subscriptionVault 'modules/keyVault.bicep' = {
  name: 'subscriptionVault'
  params: {
    name: names.subscriptionVault
    location: location
    tags: allTags
    enablePurgeProtection: subscriptionVaultPurgeProtection
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    workspaceName: names.workspace
    appInsightsName: names.appInsights
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

// The custom table lives in the destination workspace, which may sit in another resource group or subscription.
module incidentTable 'modules/incidentTable.bicep' = if (logAnalyticsDelivery) {
  name: 'incidentTable'
  scope: resourceGroup(deliveryWorkspaceParts[2], deliveryWorkspaceParts[4])
  params: {
    workspaceName: last(deliveryWorkspaceParts)
    tableName: incidentTableName
    columns: incidentTableColumns
  }
  // The default workspace is the collector's own, created by the monitoring module.
  dependsOn: [
    monitoring
  ]
}

module logAnalytics 'modules/logAnalyticsDelivery.bicep' = if (logAnalyticsDelivery) {
  name: 'logAnalyticsDelivery'
  params: {
    endpointName: names.dataCollectionEndpoint
    ruleName: names.dataCollectionRule
    location: logAnalyticsLocation
    tags: allTags
    workspaceResourceId: deliveryWorkspaceId
    streamName: incidentStreamName
    streamColumns: incidentStreamColumns
    outputStreamName: incidentStreamName
    transformKql: incidentTransformKql
  }
  // The rule is validated against the table it writes to.
  dependsOn: [
    incidentTable
  ]
}

// Alert rules and the operator workbook over the telemetry the app sends (issue 12).
module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: resourceToken
    location: location
    tags: allTags
    appInsightsId: monitoring.outputs.appInsightsId
    alertEmail: alertEmail
    // The rule reads one day of telemetry every 15 minutes: the threshold is kept within [15, 1380] minutes.
    staleAfterMinutes: max(15, min(staleAfterMinutes, 1380))
  }
}

// Least privilege, each role at the one resource it is needed on. The Functions host needs Blob Data Owner
// (leases, keys, the Flex deployment package) and Queue Data Contributor (queue triggers) on its storage.
module roleAssignments 'modules/roleAssignments.json' = {
  name: 'roleAssignments'
  params: {
    assignments: [
      {
        scope: storage.outputs.id
        roleDefinitionId: roles.storageBlobDataOwner
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Functions host storage and the Flex Consumption deployment package'
      }
      {
        scope: storage.outputs.id
        roleDefinitionId: roles.storageQueueDataContributor
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'tenant-collect queue trigger and output binding'
      }
      {
        scope: storage.outputs.id
        roleDefinitionId: roles.storageTableDataContributor
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Tenants, Incidents, IncidentHistory, Runs and the other collector tables'
      }
      {
        scope: keyVault.outputs.id
        roleDefinitionId: roles.keyVaultSecretsUser
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Read the partner app secret'
      }
      {
        scope: monitoring.outputs.appInsightsId
        roleDefinitionId: roles.monitoringMetricsPublisher
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Send telemetry to Application Insights with Entra authentication'
      }
      {
        scope: subscriptionVault.outputs.id
        roleDefinitionId: roles.keyVaultSecretsOfficer
        principalId: identity.outputs.principalId
        principalType: 'ServicePrincipal'
        description: 'Store, read and delete webhook subscription secrets (never the partner credential vault)'
      }
      {
        // Only with logAnalyticsDelivery (an empty principal skips the item); the rule exists by then (dependsOn).
        scope: resourceId('Microsoft.Insights/dataCollectionRules', names.dataCollectionRule)
        roleDefinitionId: roles.monitoringMetricsPublisher
        principalId: logAnalyticsDelivery ? identity.outputs.principalId : ''
        principalType: 'ServicePrincipal'
        description: 'Send incident rows to the data collection rule (Logs Ingestion API)'
      }
      {
        scope: monitoring.outputs.appInsightsId
        roleDefinitionId: roles.reader
        principalId: alerts.outputs.rulePrincipalIds[0]
        principalType: 'ServicePrincipal'
        description: 'Alert rule "no successful run" queries the collector telemetry'
      }
      {
        scope: monitoring.outputs.appInsightsId
        roleDefinitionId: roles.reader
        principalId: alerts.outputs.rulePrincipalIds[1]
        principalType: 'ServicePrincipal'
        description: 'Alert rule "tenant failing or credential refused" queries the collector telemetry'
      }
      {
        scope: monitoring.outputs.appInsightsId
        roleDefinitionId: roles.reader
        principalId: alerts.outputs.rulePrincipalIds[2]
        principalType: 'ServicePrincipal'
        description: 'Alert rule "events dead-lettered" queries the collector telemetry'
      }
      {
        scope: monitoring.outputs.appInsightsId
        roleDefinitionId: roles.reader
        principalId: alerts.outputs.rulePrincipalIds[3]
        principalType: 'ServicePrincipal'
        description: 'Alert rule "partner credential expiring" queries the collector telemetry'
      }
      {
        scope: keyVault.outputs.id
        roleDefinitionId: roles.keyVaultSecretsOfficer
        principalId: deployerPrincipalId
        principalType: deployerPrincipalType
        description: 'Deployer stores the partner app secret (az keyvault secret set)'
      }
      {
        scope: subscriptionVault.outputs.id
        roleDefinitionId: roles.keyVaultSecretsOfficer
        principalId: deployerPrincipalId
        principalType: deployerPrincipalType
        description: 'Deployer runs subscriptions add/remove from the CLI, which stores and deletes webhook secrets'
      }
    ]
  }
  dependsOn: [
    logAnalytics
  ]
}

module functionApp 'modules/functionApp.bicep' = {
  name: 'functionApp'
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: allTags
    azdServiceName: 'collector'
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    storageAccountName: storage.outputs.name
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    appInsightsName: names.appInsights
    keyVaultUri: keyVault.outputs.uri
    subscriptionVaultUri: subscriptionVault.outputs.uri
    partnerSecretName: partnerSecretName
    partnerCredentialKind: partnerCredentialKind
    partnerCertificateName: partnerCertificateName
    partnerClientId: partnerClientId
    incidentSource: incidentSource
    cloud: cloud
    collectSchedule: collectSchedule
    syncOverlapSeconds: syncOverlapSeconds
    syncLagSeconds: syncLagSeconds
    syncInitialLookbackDays: syncInitialLookbackDays
    reprobeHours: reprobeHours
    tenantConcurrency: tenantConcurrency
    staleAfterMinutes: staleAfterMinutes
    historyRetentionDays: historyRetentionDays
    operatorSignInClientId: operatorSignInClientId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  // The app starts only once its identity can reach storage, the vault and App Insights; App Insights is
  // passed by its compile-time name (what-if can then predict the app), so the dependency is explicit.
  dependsOn: [
    monitoring
    roleAssignments
  ]
}

// ---------- Outputs (azd stores them in the environment; none is secret) ----------

@description('Name of the Function App.')
output FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Base URL of the Function App.')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.hostName}'

@description('Redirect URI to add to the partner app registration (Web platform).')
output CONSENT_REDIRECT_URI string = functionApp.outputs.consentRedirectUri

@description('Name of the Key Vault to store the partner app secret in.')
output KEY_VAULT_NAME string = keyVault.outputs.name

@description('Name of the secret the app reads from that vault.')
output PARTNER_SECRET_NAME string = partnerSecretName

@description('Name of the storage account holding the collector tables.')
output STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Resource ID of the operator workbook (tenant health, runs, incidents).')
output WORKBOOK_ID string = alerts.outputs.workbookId

@description('Name of the Application Insights component to watch runs in.')
output APPLICATIONINSIGHTS_NAME string = monitoring.outputs.appInsightsName

@description('PARTNER_CREDENTIAL of the deployment (the postprovision hook registers what this mode needs).')
output PARTNER_CREDENTIAL string = partnerCredentialKind

@description('Client ID of the user-assigned identity the app runs as (PARTNER_FEDERATED_CLIENT_ID).')
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId

@description('Object (principal) ID of that identity: the subject of the partner app\'s federated credential.')
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

@description('Issuer of the identity\'s tokens: the issuer of the partner app\'s federated credential.')
output FEDERATED_ISSUER string = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'

@description('Token-exchange audience of the cloud (Microsoft Learn, "Configure an application to trust a managed identity"): public api://AzureADTokenExchange, US Government api://AzureADTokenExchangeUSGov.')
output TOKEN_EXCHANGE_AUDIENCE string = (cloud == 'gcchigh' || cloud == 'dod')
  ? 'api://AzureADTokenExchangeUSGov'
  : 'api://AzureADTokenExchange'

@description('The partner\'s home tenant (PARTNER_TENANT_ID), where the app registration lives.')
output PARTNER_TENANT_ID string = tenant().tenantId

@description('Name of the Key Vault of webhook subscription secrets (SUBSCRIPTION_VAULT_URL).')
output SUBSCRIPTION_VAULT_NAME string = subscriptionVault.outputs.name

@description('With logAnalyticsDelivery: logs ingestion URL of the data collection endpoint (subscriptions add --log-analytics --endpoint). Empty otherwise.')
output LOG_ANALYTICS_ENDPOINT string = logAnalytics.?outputs.endpoint ?? ''

@description('With logAnalyticsDelivery: immutable ID of the data collection rule (--rule). Empty otherwise.')
output LOG_ANALYTICS_RULE_ID string = logAnalytics.?outputs.ruleImmutableId ?? ''

@description('With logAnalyticsDelivery: the stream to post to (--stream). Empty otherwise.')
output LOG_ANALYTICS_STREAM string = logAnalyticsDelivery ? incidentStreamName : ''
