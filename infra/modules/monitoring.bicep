metadata description = 'Log Analytics workspace and workspace-based Application Insights, both with local (key) authentication disabled: telemetry is accepted only from Entra-authenticated senders.'

@description('Required. Name of the Log Analytics workspace.')
param workspaceName string

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Required. Azure region of both resources.')
param location string

@description('Optional. Tags applied to both resources.')
param tags object = {}

@description('Optional. Days the workspace keeps logs.')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
    // Instrumentation-key ingestion off: the app sends with APPLICATIONINSIGHTS_AUTHENTICATION_STRING (Entra).
    DisableLocalAuth: true
  }
}

@description('Resource ID of the Application Insights component (the scope of Monitoring Metrics Publisher).')
output appInsightsId string = appInsights.id

@description('Name of the Application Insights component.')
output appInsightsName string = appInsights.name

@description('Resource ID of the Log Analytics workspace.')
output workspaceId string = workspace.id
