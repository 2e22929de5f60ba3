metadata description = 'Where the collector sends incident events through the Azure Monitor Logs Ingestion API: a data collection endpoint and a data collection rule that routes the incident stream to the custom table of a Log Analytics workspace (e.g. the partner\'s Microsoft Sentinel workspace).'

@description('Required. Name of the data collection endpoint.')
param endpointName string

@description('Required. Name of the data collection rule.')
param ruleName string

@description('Required. Region of the endpoint and the rule: the region of the destination workspace.')
param location string

@description('Optional. Tags applied to both resources.')
param tags object = {}

@description('Required. Resource ID of the destination Log Analytics workspace (any resource group or subscription).')
param workspaceResourceId string

@description('Required. Name of the incoming stream (Custom-<table>), what the sender posts to.')
param streamName string

@description('Required. Columns of the incoming stream, as the sender writes each row: objects { name, type }.')
param streamColumns array

@description('Required. Output stream: Custom-<name of the custom table>.')
param outputStreamName string

@description('Required. KQL transformation from the incoming stream to the table (renames columns the table may not use).')
param transformKql string

resource endpoint 'Microsoft.Insights/dataCollectionEndpoints@2023-03-11' = {
  name: endpointName
  location: location
  tags: tags
  properties: {
    networkAcls: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

resource rule 'Microsoft.Insights/dataCollectionRules@2023-03-11' = {
  name: ruleName
  location: location
  tags: tags
  properties: {
    description: 'Defender incidents from the incident collector, to the custom table.'
    dataCollectionEndpointId: endpoint.id
    streamDeclarations: {
      '${streamName}': {
        columns: streamColumns
      }
    }
    destinations: {
      logAnalytics: [
        {
          name: 'incidentWorkspace'
          workspaceResourceId: workspaceResourceId
        }
      ]
    }
    dataFlows: [
      {
        streams: [
          streamName
        ]
        destinations: [
          'incidentWorkspace'
        ]
        transformKql: transformKql
        outputStream: outputStreamName
      }
    ]
  }
}

@description('Logs ingestion URL of the data collection endpoint (subscriptions add --endpoint).')
output endpoint string = endpoint.properties.logsIngestion.endpoint

@description('Immutable ID of the data collection rule, dcr-… (subscriptions add --rule).')
output ruleImmutableId string = rule.properties.immutableId

@description('Resource ID of the data collection rule (the scope of Monitoring Metrics Publisher).')
output ruleId string = rule.id
