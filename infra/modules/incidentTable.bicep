metadata description = 'The custom table that incident events land in (design §9), in a Log Analytics workspace of any resource group: deploy this module scoped to the workspace\'s resource group.'

@description('Required. Name of the existing Log Analytics workspace (in the resource group this module is scoped to).')
param workspaceName string

@description('Required. Name of the custom table, ending in _CL.')
param tableName string

@description('Required. Columns of the table: objects { name, type, description }.')
param columns array

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' existing = {
  name: workspaceName
}

resource table 'Microsoft.OperationalInsights/workspaces/tables@2025-02-01' = {
  parent: workspace
  name: tableName
  properties: {
    // Analytics plan (Sentinel rules and workbooks query it); retention not set: the workspace's own.
    plan: 'Analytics'
    schema: {
      name: tableName
      description: 'Microsoft Defender incidents of every customer tenant, one row per incident version, from the Defender incident collector.'
      columns: columns
    }
  }
}

@description('Resource ID of the table.')
output id string = table.id
