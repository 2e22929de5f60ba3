metadata description = 'A Key Vault of the collector: the partner credential\'s vault, or the vault of webhook subscription secrets. RBAC only (no access policies), soft delete on, purge protection on unless turned off. No secret value is ever set by this template.'

@description('Required. Globally unique vault name (3–24 letters, digits and dashes).')
@minLength(3)
@maxLength(24)
param name string

@description('Required. Azure region of the vault.')
param location string

@description('Optional. Tags applied to the vault.')
param tags object = {}

@description('Optional. Days a deleted vault or secret stays recoverable (7–90). Purge protection keeps it for the whole period.')
@minValue(7)
@maxValue(90)
param softDeleteRetentionInDays int = 90

@description('Optional. Purge protection: a deleted vault or secret cannot be purged before its retention ends. Once on, Azure never lets it be turned off.')
param enablePurgeProtection bool = true

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    // Access is granted by Azure RBAC role assignments (see main.bicep), never by access policies.
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: softDeleteRetentionInDays
    // Azure accepts only true or an absent property (never false): absent leaves purge protection off.
    enablePurgeProtection: enablePurgeProtection ? true : null
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

@description('Resource ID of the vault (the scope of its role assignments).')
output id string = vault.id

@description('Name of the vault.')
output name string = vault.name

@description('Vault URI, e.g. https://<name>.vault.azure.net/ (becomes KEY_VAULT_URL or SUBSCRIPTION_VAULT_URL).')
output uri string = vault.properties.vaultUri
