metadata description = 'The collector Function App on the Flex Consumption plan (Node 22), running as a user-assigned identity, with every setting of design §3 as an app setting and identity-based storage connections.'

@description('Required. Name of the Function App (becomes the host name <name>.azurewebsites.net or a unique variant of it).')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Required. Azure region of the plan and the app.')
param location string

@description('Optional. Tags applied to the plan and the app.')
param tags object = {}

@description('Required. Value of the azd-service-name tag: the service name in azure.yaml that azd deploys to this app.')
param azdServiceName string

@description('Required. Resource ID of the user-assigned identity the app runs as.')
param identityId string

@description('Required. Client ID of that identity (AZURE_CLIENT_ID and AzureWebJobsStorage__clientId).')
param identityClientId string

@description('Required. Name of the storage account used by the host, the queues and the tables.')
param storageAccountName string

@description('Required. Blob endpoint of that account (with trailing slash).')
param storageBlobEndpoint string

@description('Required. Queue endpoint of that account.')
param storageQueueEndpoint string

@description('Required. Table endpoint of that account.')
param storageTableEndpoint string

@description('Required. Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Required. Name of the Application Insights component the app sends telemetry to.')
param appInsightsName string

@description('Required. URI of the Key Vault holding the partner app secret (KEY_VAULT_URL).')
param keyVaultUri string

@description('Required. URI of the Key Vault of webhook subscription secrets (SUBSCRIPTION_VAULT_URL), never the partner credential vault.')
param subscriptionVaultUri string

@description('Required. Name of the secret in that vault (PARTNER_SECRET_NAME).')
param partnerSecretName string

@description('Required. secret, certificate or federated (PARTNER_CREDENTIAL).')
param partnerCredentialKind string

@description('Required. Key Vault certificate name for certificate mode (PARTNER_CERTIFICATE_NAME; read only in that mode).')
param partnerCertificateName string

@description('Required. Application (client) ID of the partner\'s multi-tenant app registration (PARTNER_CLIENT_ID).')
param partnerClientId string

@description('Required. Incident source: graph or m365d (INCIDENT_SOURCE).')
param incidentSource string

@description('Required. Cloud: public, gcc, gcchigh or dod (CLOUD).')
param cloud string

@description('Required. NCRONTAB schedule of the collection timer (COLLECT_SCHEDULE).')
param collectSchedule string

@description('Required. SYNC_OVERLAP_SECONDS.')
param syncOverlapSeconds int

@description('Required. SYNC_LAG_SECONDS.')
param syncLagSeconds int

@description('Required. SYNC_INITIAL_LOOKBACK_DAYS.')
param syncInitialLookbackDays int

@description('Required. REPROBE_HOURS.')
param reprobeHours int

@description('Required. TENANT_CONCURRENCY.')
param tenantConcurrency int

@description('Required. STALE_AFTER_MINUTES: how old the newest finished run may be before health is unhealthy.')
param staleAfterMinutes int

@description('Required. HISTORY_RETENTION_DAYS: days of incident history kept (0: every version).')
param historyRetentionDays int

@description('Required. Client ID of the Entra app registration operators sign in with (App Service Authentication); empty: sign-in off.')
param operatorSignInClientId string

@description('Required. Upper bound of instances Flex Consumption scales out to.')
param maximumInstanceCount int

@description('Required. Memory per instance in MB.')
param instanceMemoryMB int

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': azdServiceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          // The package azd uploads lands here; the platform reads it with the same identity (no SAS, no key).
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// Basic (user name + password) publishing is off for both FTP and SCM; azd and az deploy with Entra tokens.
// Two declarations rather than a loop: the child's name is the type discriminator Bicep checks at compile time.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

var consentRedirectUri = 'https://${site.properties.defaultHostName}/api/consent/callback'

// Node flags of the worker process (what `npm run bench` measures memory with: scripts/bench/deployedSettings.ts
// reads this line). A 128 MB old space and 8 MB semi-spaces (young generation at most 24 MB instead of Node's 48 MB)
// keep the peak RSS of a 1,000-tenant run and of a 50,000-incident tenant under 200 MB; the semi-space cap measured
// no CPU cost, the old-space cap's is in docs/performance.md.
var nodeArguments = '--max-old-space-size=128 --max-semi-space-size=8'

// Set as a child resource so CONSENT_REDIRECT_URI can use the host name the platform assigned to the site.
// Flex Consumption rejects FUNCTIONS_WORKER_RUNTIME, FUNCTIONS_EXTENSION_VERSION, WEBSITE_RUN_FROM_PACKAGE and
// content-share settings (functionAppConfig carries them), so none appears here. PARTNER_CLIENT_SECRET is local-only.
resource appSettings 'Microsoft.Web/sites/config@2024-11-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    AzureWebJobsStorage__accountName: storageAccountName
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: storageBlobEndpoint
    AzureWebJobsStorage__queueServiceUri: storageQueueEndpoint
    AzureWebJobsStorage__tableServiceUri: storageTableEndpoint
    AZURE_CLIENT_ID: identityClientId
    APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    PARTNER_CLIENT_ID: partnerClientId
    KEY_VAULT_URL: keyVaultUri
    PARTNER_SECRET_NAME: partnerSecretName
    SUBSCRIPTION_VAULT_URL: subscriptionVaultUri
    // Each mode reads only its own companion setting; all are set so a mode switch needs one setting change.
    PARTNER_CREDENTIAL: partnerCredentialKind
    PARTNER_CERTIFICATE_NAME: partnerCertificateName
    PARTNER_FEDERATED_CLIENT_ID: identityClientId
    PARTNER_TENANT_ID: tenant().tenantId
    INCIDENT_SOURCE: incidentSource
    CLOUD: cloud
    COLLECT_SCHEDULE: collectSchedule
    CONSENT_REDIRECT_URI: consentRedirectUri
    SYNC_OVERLAP_SECONDS: string(syncOverlapSeconds)
    SYNC_LAG_SECONDS: string(syncLagSeconds)
    SYNC_INITIAL_LOOKBACK_DAYS: string(syncInitialLookbackDays)
    REPROBE_HOURS: string(reprobeHours)
    TENANT_CONCURRENCY: string(tenantConcurrency)
    STALE_AFTER_MINUTES: string(staleAfterMinutes)
    languageWorkers__node__arguments: nodeArguments
    HISTORY_RETENTION_DAYS: string(historyRetentionDays)
  }
}

// Built-in Entra sign-in (App Service Authentication), only when an operator sign-in app is given: every path
// then needs a signed-in operator of this tenant (on top of the function key), except the two that must stay
// anonymous — the customer admin's return from consent, and health for probes and monitors.
resource signIn 'Microsoft.Web/sites/config@2024-11-01' = if (!empty(operatorSignInClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'RedirectToLoginPage'
      redirectToProvider: 'azureactivedirectory'
      excludedPaths: [
        '/api/consent/callback'
        '/api/health'
      ]
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          // ID tokens only: no client secret to store. Sign-in is limited to this (the partner's) tenant.
          clientId: operatorSignInClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            operatorSignInClientId
            'api://${operatorSignInClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

@description('Name of the Function App.')
output name string = site.name

@description('Resource ID of the Function App.')
output id string = site.id

@description('Default host name of the Function App.')
output hostName string = site.properties.defaultHostName

@description('The redirect URI to register on the partner app registration.')
output consentRedirectUri string = consentRedirectUri
