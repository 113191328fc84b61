// Prophet on Azure Functions (Node.js v4 model): one function app per Prophet function (each
// publishes its own bundle from dist/azure/<name>), a shared storage account (also holding Event
// Grid dead letters) and the Event Grid topic functions publish to (CloudEvents 1.0 schema).
// Subscriptions per function are created by `npm run deploy:azure` after the code is published,
// because Event Grid validates an Azure Function endpoint only once the function exists.
param env string = 'staging'
param location string = resourceGroup().location
param functionNames array

var prefix = 'prophet-${env}'

resource storage 'Microsoft.Storage/storageAccounts@2023-01-01' = {
  name: 'prophet${env}'
  location: location
  sku: { name: 'Standard_LRS' }
  kind: 'StorageV2'
  properties: { minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false }
}

resource deadLetters 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-01-01' = {
  name: '${storage.name}/default/dead-letters'
}

resource topic 'Microsoft.EventGrid/topics@2022-06-15' = {
  name: '${prefix}-events'
  location: location
  properties: { inputSchema: 'CloudEventSchemaV1_0' }
}

resource plan 'Microsoft.Web/serverfarms@2023-01-01' = {
  name: '${prefix}-plan'
  location: location
  sku: { name: 'Y1', tier: 'Dynamic' }
  kind: 'functionapp'
  properties: { reserved: true }
}

resource apps 'Microsoft.Web/sites@2023-01-01' = [for name in functionNames: {
  name: '${prefix}-${name}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: {
      linuxFxVersion: 'Node|22'
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
        { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'node' }
        { name: 'AzureWebJobsStorage__accountName', value: storage.name }
        { name: 'EVENTGRID_TOPIC_ENDPOINT', value: topic.properties.endpoint }
        // A Key Vault reference: the app's identity reads the secret, the value never sits here.
        { name: 'DATABASE_URL', value: '@Microsoft.KeyVault(SecretUri=https://${prefix}-kv${environment().suffixes.keyvaultDns}/secrets/database-url/)' }
        { name: 'PROPHET_CLUSTER', value: 'default' }
      ]
    }
  }
}]

// Each app may publish to the topic (EventGrid Data Sender) and nothing else on it.
resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for (name, i) in functionNames: {
  name: guid(topic.id, name, 'd5a91429-5739-47e2-a06b-3470a27159e7')
  scope: topic
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'd5a91429-5739-47e2-a06b-3470a27159e7')
    principalId: apps[i].identity.principalId
    principalType: 'ServicePrincipal'
  }
}]

output topicEndpoint string = topic.properties.endpoint
