metadata description = 'User-assigned managed identity the Function App runs as (storage, Key Vault, App Insights).'

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Required. Azure region of the identity.')
param location string

@description('Optional. Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource ID of the identity.')
output id string = identity.id

@description('Name of the identity.')
output name string = identity.name

@description('Client (application) ID of the identity: what DefaultAzureCredential and the host use to pick it.')
output clientId string = identity.properties.clientId

@description('Object (principal) ID of the identity: what role assignments are granted to.')
output principalId string = identity.properties.principalId
