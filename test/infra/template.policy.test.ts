/**
 * Policy tests over the ARM JSON that the real Bicep CLI compiled from infra/main.bicep: every property issue 4
 * asks for is asserted on what Azure would receive, not on the Bicep source.
 */
import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { loadSettings } from '../../shared/config/settings.js';
import { toIncidentRow } from '../../shared/adapters/delivery/logsIngestionSender.js';
import {
  allResources,
  type ArmTemplate,
  type Located,
  isExpression,
  type Json,
  moduleScope,
  ofType,
  resolve,
  single,
  sourceExpression,
  text,
  Unresolved,
} from './armTemplate.js';
import { announceSkip, loadCompiledTemplate } from './compiledTemplate.js';
import { BICEP_VERSION, DEFAULT_CACHE_DIR, type InfraCheckSummary } from '../../scripts/infra-bicep.mjs';
import { join } from 'node:path';

const loaded = loadCompiledTemplate();
if (loaded.kind === 'unavailable') announceSkip(loaded.message);
const suite = loaded.kind === 'ok' ? describe : describe.skip;
const template = (loaded.kind === 'ok' ? loaded.template : { resources: [] }) as ArmTemplate;

/** A module output as the root template references it. */
const moduleOutput = (module: string, output: string) =>
  new RegExp(
    `^\\[reference\\(resourceId\\('Microsoft\\.Resources/deployments', '${module}'\\), '[^']+'\\)\\.outputs\\.${output}\\.value\\]$`,
  );

const ROLE = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
} as const;

/** Roles that would make the identity more than a data reader/writer of its own resources. */
const PRIVILEGED_ROLES = [
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635', // Owner
  'b24988ac-6180-42a0-ab88-20f7382dd24c', // Contributor
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', // User Access Administrator
  '00482a5a-887f-4fb3-b363-3b7fe8e74483', // Key Vault Administrator
  '17d1049b-9a84-46fb-8f53-869881c3d3ab', // Storage Account Contributor
];

const EXPECTED_APP_SETTINGS = [
  'AzureWebJobsStorage__accountName',
  'AzureWebJobsStorage__credential',
  'AzureWebJobsStorage__clientId',
  'AzureWebJobsStorage__blobServiceUri',
  'AzureWebJobsStorage__queueServiceUri',
  'AzureWebJobsStorage__tableServiceUri',
  'AZURE_CLIENT_ID',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
  'PARTNER_CLIENT_ID',
  'KEY_VAULT_URL',
  'PARTNER_SECRET_NAME',
  'SUBSCRIPTION_VAULT_URL',
  'PARTNER_CREDENTIAL',
  'PARTNER_CERTIFICATE_NAME',
  'PARTNER_FEDERATED_CLIENT_ID',
  'PARTNER_TENANT_ID',
  'INCIDENT_SOURCE',
  'CLOUD',
  'COLLECT_SCHEDULE',
  'CONSENT_REDIRECT_URI',
  'SYNC_OVERLAP_SECONDS',
  'SYNC_LAG_SECONDS',
  'SYNC_INITIAL_LOOKBACK_DAYS',
  'REPROBE_HOURS',
  'TENANT_CONCURRENCY',
  'STALE_AFTER_MINUTES',
  'languageWorkers__node__arguments',
  'HISTORY_RETENTION_DAYS',
];

function propertiesOf(type: string): Record<string, Json> {
  return (single(template, type).resource.properties ?? {}) as Record<string, Json>;
}

function objectAt(value: Json | undefined, ...path: string[]): Json | undefined {
  return path.reduce<Json | undefined>((current, key) => {
    if (current === undefined || current === null || typeof current !== 'object' || Array.isArray(current))
      return undefined;
    return current[key];
  }, value);
}

suite('Bicep build', () => {
  it('compiled every .bicep file with zero errors and zero warnings, with the pinned CLI unless BICEP_BIN was chosen', () => {
    const summary = JSON.parse(readFileSync(join(DEFAULT_CACHE_DIR, 'check.json'), 'utf8')) as InfraCheckSummary;
    expect(summary).toMatchObject({ errors: 0, warnings: 0 });
    if (summary.bicepSource === 'restored') expect(summary.bicepVersion).toBe(BICEP_VERSION);
    expect(summary.files).toEqual(
      expect.arrayContaining(['infra/main.bicep', 'infra/modules/functionApp.bicep', 'infra/modules/storage.bicep']),
    );
    expect(template.$schema ?? '').toMatch(/deploymentTemplate\.json#$/);
  });
});

suite('compiled template: storage', () => {
  const account = () => propertiesOf('Microsoft.Storage/storageAccounts');

  it('disables shared-key access and defaults the portal to Entra ID', () => {
    expect(account().allowSharedKeyAccess).toBe(false);
    expect(account().defaultToOAuthAuthentication).toBe(true);
  });

  it('requires TLS 1.2 and HTTPS, and exposes no public blobs', () => {
    expect(account().minimumTlsVersion).toBe('TLS1_2');
    expect(account().supportsHttpsTrafficOnly).toBe(true);
    expect(account().allowBlobPublicAccess).toBe(false);
  });

  it('creates the collector queues and tables', () => {
    const storage = moduleScope(template, 'storage');
    expect(resolve("[parameters('queueNames')]", storage)).toEqual(['tenant-collect', 'tenant-collect-poison']);
    expect(resolve("[parameters('tableNames')]", storage)).toEqual(
      expect.arrayContaining([
        'Tenants',
        'Incidents',
        'IncidentHistory',
        'Runs',
        'PayloadChunks',
        'Leases',
        'ConsentStates',
        'RejectedIncidents',
      ]),
    );
    expect(ofType(template, 'Microsoft.Storage/storageAccounts/queueServices/queues')).toHaveLength(1);
    expect(ofType(template, 'Microsoft.Storage/storageAccounts/tableServices/tables')).toHaveLength(1);
  });

  it('creates a private deployment container, which the Function App deploys from with its identity', () => {
    const container = single(template, 'Microsoft.Storage/storageAccounts/blobServices/containers');
    expect(objectAt(container.resource.properties, 'publicAccess')).toBe('None');
    const site = single(template, 'Microsoft.Web/sites');
    const storage = objectAt(site.resource.properties, 'functionAppConfig', 'deployment', 'storage');
    expect(objectAt(storage, 'type')).toBe('blobContainer');
    expect(text(objectAt(storage, 'value'))).toBe(
      "[format('{0}{1}', parameters('storageBlobEndpoint'), parameters('deploymentContainerName'))]",
    );
    expect(text(sourceExpression("[parameters('deploymentContainerName')]", site.scope))).toMatch(
      moduleOutput('storage', 'deploymentContainerName'),
    );
    expect(objectAt(storage, 'authentication', 'type')).toBe('UserAssignedIdentity');
    expect(
      text(sourceExpression(objectAt(storage, 'authentication', 'userAssignedIdentityResourceId') as Json, site.scope)),
    ).toMatch(moduleOutput('identity', 'id'));
  });
});

/** The one `Microsoft.Web/sites/config` child named `name` (appsettings, authsettingsV2). */
function siteConfig(name: string): Located {
  const found = ofType(template, 'Microsoft.Web/sites/config').filter((l) => l.resource.name.endsWith(`'${name}')]`));
  if (found.length !== 1) throw new Error(`Expected exactly one sites/config ${name}, found ${found.length}.`);
  return found[0] as Located;
}

suite('compiled template: built-in Entra sign-in for operators', () => {
  it('is off by default: the authsettingsV2 config exists only when operatorSignInClientId is given', () => {
    const auth = siteConfig('authsettingsV2');
    expect(auth.resource.condition).toBe("[not(empty(parameters('operatorSignInClientId')))]");
    expect(resolve("[parameters('operatorSignInClientId')]", auth.scope)).toBe('');
    expect(template.parameters?.operatorSignInClientId?.defaultValue).toBe('');
  });

  it('requires sign-in everywhere except the consent callback and health, which stay anonymous', () => {
    const props = siteConfig('authsettingsV2').resource.properties ?? {};
    expect(objectAt(props, 'platform', 'enabled')).toBe(true);
    expect(objectAt(props, 'globalValidation')).toEqual({
      requireAuthentication: true,
      unauthenticatedClientAction: 'RedirectToLoginPage',
      redirectToProvider: 'azureactivedirectory',
      excludedPaths: ['/api/consent/callback', '/api/health'],
    });
    expect(objectAt(props, 'httpSettings', 'requireHttps')).toBe(true);
  });

  it("signs operators in with Entra ID of the deployment's own tenant, with no client secret stored", () => {
    const props = siteConfig('authsettingsV2').resource.properties ?? {};
    const aad = objectAt(props, 'identityProviders', 'azureActiveDirectory');
    expect(objectAt(aad, 'enabled')).toBe(true);
    expect(objectAt(aad, 'registration', 'clientId')).toBe("[parameters('operatorSignInClientId')]");
    expect(objectAt(aad, 'registration', 'openIdIssuer')).toBe(
      "[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, tenant().tenantId)]",
    );
    expect(JSON.stringify(props)).not.toMatch(/clientSecret/i);
    expect(objectAt(props, 'login', 'tokenStore', 'enabled')).toBe(false);
  });
});

suite('compiled template: Function App', () => {
  it('runs on the Flex Consumption plan', () => {
    const plan = single(template, 'Microsoft.Web/serverfarms').resource;
    expect(plan.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    expect(objectAt(plan.properties, 'reserved')).toBe(true);
  });

  it('runs Node 22 as a Linux function app', () => {
    const site = single(template, 'Microsoft.Web/sites').resource;
    expect(site.kind).toBe('functionapp,linux');
    expect(objectAt(site.properties, 'functionAppConfig', 'runtime')).toEqual({ name: 'node', version: '22' });
  });

  it('runs as the user-assigned identity only', () => {
    const site = single(template, 'Microsoft.Web/sites');
    expect(site.resource.identity?.type).toBe('UserAssigned');
    const ids = Object.keys(objectAt(site.resource.identity, 'userAssignedIdentities') as Record<string, Json>);
    expect(ids).toHaveLength(1);
    expect(text(sourceExpression(ids[0]!.replace(/^\[format\('\{0\}', (.*)\)\]$/, '[$1]'), site.scope))).toMatch(
      moduleOutput('identity', 'id'),
    );
  });

  it('is HTTPS only with TLS 1.2 and FTPS off', () => {
    const site = single(template, 'Microsoft.Web/sites').resource;
    expect(objectAt(site.properties, 'httpsOnly')).toBe(true);
    expect(objectAt(site.properties, 'siteConfig', 'ftpsState')).toBe('Disabled');
    expect(objectAt(site.properties, 'siteConfig', 'minTlsVersion')).toBe('1.2');
    expect(objectAt(site.properties, 'siteConfig', 'scmMinTlsVersion')).toBe('1.2');
  });

  it('turns basic-auth publishing off for FTP and SCM', () => {
    const policies = ofType(template, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    const byName = Object.fromEntries(
      policies.map((p) => [
        p.resource.name.replace(/^.*'(ftp|scm)'\)\]$/, '$1'),
        objectAt(p.resource.properties, 'allow'),
      ]),
    );
    expect(byName).toEqual({ ftp: false, scm: false });
  });
});

suite('compiled template: Key Vault', () => {
  /** Both vaults: the partner credential's and the webhook subscription secrets'. */
  const vaults = () => ofType(template, 'Microsoft.KeyVault/vaults');

  it('deploys two vaults from the one vault module: the partner credential vault and the subscription vault', () => {
    expect(
      vaults()
        .map((v) => v.scope.path.join('/'))
        .sort(),
    ).toEqual(['keyVault', 'subscriptionVault']);
    const name = (module: string) => text(resolve("[parameters('name')]", moduleScope(template, module)));
    expect(name('keyVault')).not.toBe(name('subscriptionVault'));
  });

  it('uses RBAC authorization, with no access policies', () => {
    for (const { resource } of vaults()) {
      expect(resource.properties?.enableRbacAuthorization).toBe(true);
      expect(resource.properties?.accessPolicies).toBeUndefined();
    }
  });

  it('has soft delete on, purge protection on by default (a parameter for the subscription vault), standard SKU', () => {
    for (const { resource, scope } of vaults()) {
      expect(resource.properties?.enableSoftDelete).toBe(true);
      expect(resource.properties?.enablePurgeProtection).toBe(
        "[if(parameters('enablePurgeProtection'), true(), null())]",
      );
      expect(resolve("[parameters('enablePurgeProtection')]", scope)).toBe(true);
      expect(objectAt(resource.properties?.sku, 'name')).toBe('standard');
    }
    const passed = moduleScope(template, 'subscriptionVault').deployment?.properties?.parameters;
    expect(passed?.enablePurgeProtection?.value).toBe("[parameters('subscriptionVaultPurgeProtection')]");
    expect(moduleScope(template, 'keyVault').deployment?.properties?.parameters?.enablePurgeProtection).toBeUndefined();
  });

  it('never holds a secret value: no secret resources, no secret-valued parameters', () => {
    expect(ofType(template, 'Microsoft.KeyVault/vaults/secrets')).toHaveLength(0);
    const parameters = allResources(template)
      .map((l) => l.scope.template)
      .concat(template)
      .flatMap((t) => Object.entries(t.parameters ?? {}));
    for (const [name, declaration] of parameters) {
      expect(declaration.type.toLowerCase()).not.toMatch(/^secure/);
      // The only secret-related parameters are *names* and the credential's *kind* (secret|certificate|federated).
      if (/secret|password|credential/i.test(name)) expect(name).toMatch(/(SecretName|CredentialKind)$/);
    }
  });
});

suite('compiled template: Application Insights', () => {
  it('has local (instrumentation-key) authentication disabled and is workspace-based', () => {
    const component = single(template, 'Microsoft.Insights/components');
    expect(objectAt(component.resource.properties, 'DisableLocalAuth')).toBe(true);
    expect(text(objectAt(component.resource.properties, 'WorkspaceResourceId'))).toMatch(
      /Microsoft\.OperationalInsights\/workspaces/,
    );
  });

  it('sits on a Log Analytics workspace that also refuses shared keys', () => {
    expect(objectAt(propertiesOf('Microsoft.OperationalInsights/workspaces'), 'features', 'disableLocalAuth')).toBe(
      true,
    );
  });
});

suite('compiled template: role assignments', () => {
  type Assignment = { scope: string; roleDefinitionId: string; principalId: string; principalType: string };

  const assignments = (): Assignment[] => {
    const module = moduleScope(template, 'roleAssignments');
    const raw = module.deployment?.properties?.parameters?.assignments?.value;
    if (!Array.isArray(raw)) throw new Error('roleAssignments module must receive a literal list of assignments.');
    return raw.map((item) => {
      const field = (name: string) => text(resolve(objectAt(item, name) as Json, module.parent!));
      return {
        scope: field('scope'),
        roleDefinitionId: field('roleDefinitionId'),
        principalId: field('principalId'),
        principalType: field('principalType'),
      };
    });
  };
  const identityPrincipal = moduleOutput('identity', 'principalId');

  it('grants the identity exactly its data roles, each scoped to its own resource', () => {
    const forIdentity = assignments().filter((a) => identityPrincipal.test(a.principalId));
    const expected: Array<[string, RegExp]> = [
      [ROLE.storageBlobDataOwner, moduleOutput('storage', 'id')],
      [ROLE.storageQueueDataContributor, moduleOutput('storage', 'id')],
      [ROLE.storageTableDataContributor, moduleOutput('storage', 'id')],
      [ROLE.keyVaultSecretsUser, moduleOutput('keyVault', 'id')],
      [ROLE.monitoringMetricsPublisher, moduleOutput('monitoring', 'appInsightsId')],
      [ROLE.keyVaultSecretsOfficer, moduleOutput('subscriptionVault', 'id')],
    ];
    expect(forIdentity.map((a) => a.roleDefinitionId).sort()).toEqual(expected.map(([role]) => role).sort());
    for (const [role, scope] of expected) {
      const assignment = forIdentity.find((a) => a.roleDefinitionId === role && scope.test(a.scope));
      expect(assignment?.principalType).toBe('ServicePrincipal');
    }
  });

  it('never gives the collector write access to the partner credential vault: only Secrets User there', () => {
    const identityOrConditional = assignments().filter((a) => a.principalId.includes("'identity'"));
    const onPartnerVault = identityOrConditional.filter((a) => moduleOutput('keyVault', 'id').test(a.scope));
    expect(onPartnerVault.map((a) => a.roleDefinitionId)).toEqual([ROLE.keyVaultSecretsUser]);
    const officer = identityOrConditional.filter((a) => a.roleDefinitionId === ROLE.keyVaultSecretsOfficer);
    expect(officer.map((a) => a.scope)).toEqual([expect.stringMatching(moduleOutput('subscriptionVault', 'id'))]);
  });

  it('gives the identity Monitoring Metrics Publisher on the data collection rule only, and only with logAnalyticsDelivery', () => {
    const onRule = assignments().filter((a) => a.scope.includes('Microsoft.Insights/dataCollectionRules'));
    expect(onRule).toEqual([
      {
        scope: "[resourceId('Microsoft.Insights/dataCollectionRules', variables('names').dataCollectionRule)]",
        roleDefinitionId: ROLE.monitoringMetricsPublisher,
        principalId: expect.stringMatching(
          /^\[if\(parameters\('logAnalyticsDelivery'\), reference\(resourceId\('Microsoft\.Resources\/deployments', 'identity'\), '[^']+'\)\.outputs\.principalId\.value, ''\)\]$/,
        ),
        principalType: 'ServicePrincipal',
      },
    ]);
    // The one assignment loop skips an empty principal, and waits for the rule.
    expect(moduleScope(template, 'roleAssignments').deployment?.dependsOn).toEqual(
      expect.arrayContaining(["[resourceId('Microsoft.Resources/deployments', 'logAnalyticsDelivery')]"]),
    );
    // No other role anywhere touches Log Analytics or the workspace.
    expect(assignments().filter((a) => /OperationalInsights|dataCollectionEndpoints/.test(a.scope))).toEqual([]);
  });

  const alertRulePrincipal =
    /^\[reference\(resourceId\('Microsoft\.Resources\/deployments', 'alerts'\), '[^']+'\)\.outputs\.rulePrincipalIds\.value\[(\d+)\]\]$/;

  it('gives each alert rule identity Reader on the Application Insights component only', () => {
    const forRules = assignments().filter((a) => alertRulePrincipal.test(a.principalId));
    expect(forRules.map((a) => Number(alertRulePrincipal.exec(a.principalId)?.[1])).sort()).toEqual([0, 1, 2, 3]);
    for (const a of forRules) {
      expect(a.roleDefinitionId).toBe(ROLE.reader);
      expect(a.scope).toMatch(moduleOutput('monitoring', 'appInsightsId'));
      expect(a.principalType).toBe('ServicePrincipal');
    }
  });

  it('gives the deployer only Key Vault Secrets Officer on the two vaults, and only when a principal is given', () => {
    const others = assignments().filter(
      (a) => !a.principalId.includes("'identity'") && !alertRulePrincipal.test(a.principalId),
    );
    expect(others).toEqual([
      {
        scope: expect.stringMatching(moduleOutput('keyVault', 'id')),
        roleDefinitionId: ROLE.keyVaultSecretsOfficer,
        principalId: '',
        principalType: 'User',
      },
      {
        scope: expect.stringMatching(moduleOutput('subscriptionVault', 'id')),
        roleDefinitionId: ROLE.keyVaultSecretsOfficer,
        principalId: '',
        principalType: 'User',
      },
    ]);
    const module = moduleScope(template, 'roleAssignments');
    const [resource] = allResources(module.template).map((l) => l.resource);
    expect(resource?.condition).toBe("[not(empty(parameters('assignments')[copyIndex()].principalId))]");
  });

  it('assigns no privileged role anywhere and no role at resource-group or wider scope', () => {
    for (const a of assignments()) {
      for (const privileged of PRIVILEGED_ROLES) expect(a.roleDefinitionId.toLowerCase()).not.toContain(privileged);
    }
    const roleResources = ofType(template, 'Microsoft.Authorization/roleAssignments');
    expect(roleResources).toHaveLength(1);
    const [only] = roleResources;
    expect(only?.scope.path).toEqual(['roleAssignments']);
    expect(only?.resource.scope).toBe("[parameters('assignments')[copyIndex()].scope]");
  });

  it('names each assignment guid(scope, principal, role), so redeployments are idempotent', () => {
    const [only] = ofType(template, 'Microsoft.Authorization/roleAssignments');
    const item = "parameters('assignments')[copyIndex()]";
    expect(only?.resource.name).toBe(`[guid(${item}.scope, ${item}.principalId, ${item}.roleDefinitionId)]`);
    expect(objectAt(only?.resource.properties, 'roleDefinitionId')).toBe(
      `[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', ${item}.roleDefinitionId)]`,
    );
  });
});

suite('compiled template: alerts and workbook (issue 12)', () => {
  const alerts = () => moduleScope(template, 'alerts');
  type Rule = { key: string; query: string; severity: number };
  /** The module's rule list with every parameter reference resolved to its default (e.g. STALE_AFTER_MINUTES 150). */
  const rules = (): Rule[] => {
    const scope = alerts();
    const raw = scope.template.variables?.rules;
    if (!Array.isArray(raw)) throw new Error('alerts.bicep must define its rules as a list variable.');
    const defaults = (name: string) => String(scope.template.parameters?.[name]?.defaultValue);
    return raw.map((item) => {
      const query = objectAt(item, 'query');
      let kql = text(query);
      const format = /^\[format\('((?:[^']|'')*)'((?:, parameters\('\w+'\))*)\)\]$/.exec(kql);
      if (format) {
        const args = [...(format[2] ?? '').matchAll(/parameters\('(\w+)'\)/g)].map((m) => defaults(m[1] as string));
        kql = (format[1] ?? '').replace(/''/g, "'").replace(/\{(\d+)\}/g, (_m, i: string) => args[Number(i)] ?? '');
      }
      return { key: text(objectAt(item, 'key')), query: kql, severity: Number(objectAt(item, 'severity')) };
    });
  };
  /**
   * Every event name the product logs: string literals of logger calls, and constants (`const X = 'a.b'`) that a
   * logger call of the same file passes as its event (e.g. `DELIVERY_DEADLETTERED_EVENT`).
   */
  const loggedEvents = (() => {
    const names = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts')) {
          const source = readFileSync(file, 'utf8');
          for (const m of source.matchAll(/\.(?:info|warn|error)\(\s*'([a-z_]+\.[a-z_.]+)'/g))
            names.add(m[1] as string);
          for (const m of source.matchAll(/\bconst ([A-Z][A-Z0-9_]*) = '([a-z_]+\.[a-z_.]+)'/g))
            if (new RegExp(`\\.(?:info|warn|error)\\(\\s*${m[1] as string}\\b`).test(source)) names.add(m[2] as string);
        }
      }
    };
    walk('shared');
    return names;
  })();

  it('has one enabled e-mail action group fed by the alertEmail parameter', () => {
    const group = single(template, 'Microsoft.Insights/actionGroups');
    expect(objectAt(group.resource.properties, 'enabled')).toBe(true);
    const receivers = objectAt(group.resource.properties, 'emailReceivers');
    expect(Array.isArray(receivers) && receivers.length).toBe(1);
    const address = text(objectAt((receivers as Json[])[0], 'emailAddress'));
    expect(text(sourceExpression(address, group.scope))).toBe("[parameters('alertEmail')]");
    expect(template.parameters?.alertEmail?.type).toBe('string');
  });

  it('has the four alert rules, each enabled, on the App Insights component, notifying the action group', () => {
    expect(rules().map((r) => r.key)).toEqual([
      'no-successful-run',
      'tenant-failing',
      'events-deadlettered',
      'credential-expiring',
    ]);
    const rule = single(template, 'Microsoft.Insights/scheduledQueryRules');
    expect(rule.scope.path).toEqual(['alerts']);
    expect(text(objectAt((rule.resource as unknown as { copy?: Json }).copy, 'count'))).toBe(
      "[length(variables('rules'))]",
    );
    const properties = rule.resource.properties as Record<string, Json>;
    expect(properties.enabled).toBe(true);
    expect(rule.resource.kind).toBe('LogAlert');
    const scopes = properties.scopes as Json[];
    expect(scopes).toHaveLength(1);
    expect(text(sourceExpression(text(scopes[0]), rule.scope))).toMatch(moduleOutput('monitoring', 'appInsightsId'));
    const groups = objectAt(properties, 'actions', 'actionGroups') as Json[];
    const group = single(template, 'Microsoft.Insights/actionGroups');
    expect(groups).toEqual([
      `[resourceId('Microsoft.Insights/actionGroups', ${text(group.resource.name).slice(1, -1)})]`,
    ]);
    const criteria = objectAt(properties, 'criteria', 'allOf') as Json[];
    expect(criteria).toHaveLength(1);
    expect(criteria[0]).toMatchObject({ timeAggregation: 'Count', operator: 'GreaterThan', threshold: 0 });
    expect(objectAt(rule.resource as unknown as Json, 'identity', 'type')).toBe('SystemAssigned');
  });

  it('queries events the product really logs, by the dimensions it sends', () => {
    const byKey = new Map(rules().map((r) => [r.key, r.query]));
    for (const query of byKey.values()) {
      for (const m of query.matchAll(/"([a-z_]+\.[a-z_.]+)"/g)) expect(loggedEvents).toContain(m[1]);
      expect(query).toMatch(/customDimensions\.event/);
    }
    expect(byKey.get('no-successful-run')).toContain('"run.finished"');
    expect(byKey.get('no-successful-run')).toContain('ago(150m)');
    expect(byKey.get('tenant-failing')).toMatch(/"failing", "credential_error"/);
    expect(byKey.get('tenant-failing')).toContain('customDimensions.tenantId');
    expect(byKey.get('tenant-failing')).toContain('customDimensions.errorCode');
    expect(byKey.get('events-deadlettered')).toContain('"delivery.deadlettered"');
    expect(byKey.get('credential-expiring')).toContain('"credential.read"');
    expect(byKey.get('credential-expiring')).toMatch(
      /credentialDaysLeft\)\n\| where isnotnull\(daysLeft\) and daysLeft <= 30/,
    );
  });

  it('passes STALE_AFTER_MINUTES from the root parameter (default 150, as design §3)', () => {
    expect(template.parameters?.staleAfterMinutes?.defaultValue).toBe(150);
    const passed = alerts().deployment?.properties?.parameters?.staleAfterMinutes?.value;
    expect(passed).toBe("[max(15, min(parameters('staleAfterMinutes'), 1380))]");
  });

  it('has a shared workbook on the component with tenant health, runs over time and incidents by customer and severity', () => {
    const workbook = single(template, 'Microsoft.Insights/workbooks');
    expect(workbook.resource.kind).toBe('shared');
    const properties = workbook.resource.properties as Record<string, Json>;
    expect(properties.category).toBe('workbook');
    expect(text(sourceExpression(text(properties.sourceId), workbook.scope))).toMatch(
      moduleOutput('monitoring', 'appInsightsId'),
    );
    const data = resolve(properties.serializedData as Json, workbook.scope);
    expect(typeof data).toBe('string');
    const parsed = JSON.parse(data as string) as {
      version: string;
      items: Array<{ name: string; content: { query?: string } }>;
    };
    expect(parsed.version).toBe('Notebook/1.0');
    const queries = new Map(parsed.items.map((i) => [i.name, i.content.query ?? '']));
    expect(queries.get('tenantHealth')).toContain('"tenant.failed"');
    expect(queries.get('runsOverTime')).toContain('"run.finished"');
    expect(queries.get('incidentsBySeverity')).toContain('"collector.incidents_fetched"');
    expect(queries.get('incidentsBySeverity')).toContain('customDimensions.severity');
    for (const query of queries.values())
      for (const m of query.matchAll(/event\) == "([a-z_]+\.[a-z_.]+)"/g)) expect(loggedEvents).toContain(m[1]);
  });
});

suite('compiled template: app settings', () => {
  const settings = () => {
    const located = siteConfig('appsettings');
    return { values: (located.resource.properties ?? {}) as Record<string, Json>, scope: located.scope };
  };

  it('sets exactly the settings of design §3 the app needs, and nothing Flex Consumption rejects', () => {
    expect(Object.keys(settings().values).sort()).toEqual([...EXPECTED_APP_SETTINGS].sort());
  });

  it('never sets a secret: no PARTNER_CLIENT_SECRET, no storage connection string, no instrumentation key', () => {
    const keys = Object.keys(settings().values);
    for (const forbidden of [
      'PARTNER_CLIENT_SECRET',
      'AzureWebJobsStorage',
      'APPINSIGHTS_INSTRUMENTATIONKEY',
      'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
    ]) {
      expect(keys).not.toContain(forbidden);
    }
    expect(JSON.stringify(template)).not.toMatch(/list(Keys|Secrets|AccountSas|ServiceSas)\(/);
  });

  it('connects to storage with the managed identity (identity-based AzureWebJobsStorage)', () => {
    const { values, scope } = settings();
    expect(values.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(text(sourceExpression(values.AzureWebJobsStorage__clientId!, scope))).toMatch(
      moduleOutput('identity', 'clientId'),
    );
    expect(text(sourceExpression(values.AZURE_CLIENT_ID!, scope))).toMatch(moduleOutput('identity', 'clientId'));
    expect(text(sourceExpression(values.AzureWebJobsStorage__accountName!, scope))).toMatch(
      moduleOutput('storage', 'name'),
    );
    for (const service of ['blob', 'queue', 'table']) {
      const key = `AzureWebJobsStorage__${service}ServiceUri`;
      expect(text(sourceExpression(values[key]!, scope))).toMatch(moduleOutput('storage', `${service}Endpoint`));
    }
  });

  it('sends telemetry with Entra authentication as the identity', () => {
    const { values } = settings();
    expect(values.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      "[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
    );
    expect(text(values.APPLICATIONINSIGHTS_CONNECTION_STRING)).toMatch(
      /^\[reference\(resourceId\('Microsoft\.Insights\/components', .*\)\.ConnectionString\]$/,
    );
  });

  it("points KEY_VAULT_URL at the vault and CONSENT_REDIRECT_URI at the app's own callback", () => {
    const { values, scope } = settings();
    expect(text(sourceExpression(values.KEY_VAULT_URL!, scope))).toMatch(moduleOutput('keyVault', 'uri'));
    expect(values.CONSENT_REDIRECT_URI).toBe(
      "[format('https://{0}/api/consent/callback', reference(resourceId('Microsoft.Web/sites', parameters('name')), '2024-11-01').defaultHostName)]",
    );
  });

  it('defaults to the design §3 defaults', () => {
    const { values, scope } = settings();
    const value = (key: string) => resolve(values[key]!, scope);
    expect(value('PARTNER_SECRET_NAME')).toBe('partner-client-secret');
    // Federated is the recommended mode for new deployments (issue 13): no secret exists.
    expect(value('PARTNER_CREDENTIAL')).toBe('federated');
    expect(value('PARTNER_CERTIFICATE_NAME')).toBe('partner-certificate');
    expect(value('INCIDENT_SOURCE')).toBe('graph');
    expect(value('CLOUD')).toBe('public');
    expect(value('COLLECT_SCHEDULE')).toBe('0 0 * * * *');
    expect(value('SYNC_OVERLAP_SECONDS')).toBe('600');
    expect(value('SYNC_LAG_SECONDS')).toBe('300');
    expect(value('SYNC_INITIAL_LOOKBACK_DAYS')).toBe('30');
    expect(value('REPROBE_HOURS')).toBe('24');
    expect(value('TENANT_CONCURRENCY')).toBe('24');
    // The heap cap the benchmark's memory figures are measured with (docs/performance.md).
    expect(value('languageWorkers__node__arguments')).toMatch(/^--max-old-space-size=\d+ --max-semi-space-size=\d+$/);
    expect(value('STALE_AFTER_MINUTES')).toBe('150');
  });

  it("is accepted by the app's own settings loader, in its identity-based form", () => {
    const { values, scope } = settings();
    // What Azure would put in place of the runtime references, shaped like the real values.
    const deployed: Record<string, string> = {
      AzureWebJobsStorage__accountName: 'stabc123xyz',
      AzureWebJobsStorage__clientId: '11111111-2222-3333-4444-555555555555',
      AzureWebJobsStorage__blobServiceUri: 'https://stabc123xyz.blob.core.windows.net/',
      AzureWebJobsStorage__queueServiceUri: 'https://stabc123xyz.queue.core.windows.net/',
      AzureWebJobsStorage__tableServiceUri: 'https://stabc123xyz.table.core.windows.net/',
      AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
      APPLICATIONINSIGHTS_CONNECTION_STRING:
        'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.in.applicationinsights.azure.com/',
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=11111111-2222-3333-4444-555555555555;Authorization=AAD',
      PARTNER_CLIENT_ID: '99999999-8888-7777-6666-555555555555',
      KEY_VAULT_URL: 'https://kv-abc123xyz.vault.azure.net/',
      SUBSCRIPTION_VAULT_URL: 'https://kvsub-abc123xyz.vault.azure.net/',
      PARTNER_FEDERATED_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
      PARTNER_TENANT_ID: '77777777-6666-5555-4444-333333333333',
      CONSENT_REDIRECT_URI: 'https://func-abc123xyz.azurewebsites.net/api/consent/callback',
    };
    const env: Record<string, string> = {};
    for (const [key, raw] of Object.entries(values)) {
      const value = resolve(raw, scope);
      if (value instanceof Unresolved || isExpression(value)) {
        expect(Object.keys(deployed)).toContain(key);
        env[key] = deployed[key]!;
      } else {
        env[key] = String(value);
      }
    }
    const parsed = loadSettings(env);
    expect(parsed.storage).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://stabc123xyz.table.core.windows.net',
      queueServiceUri: 'https://stabc123xyz.queue.core.windows.net',
      clientId: '11111111-2222-3333-4444-555555555555',
    });
    expect(parsed.keyVaultUrl).toBe('https://kv-abc123xyz.vault.azure.net');
    expect(parsed.subscriptionVaultUrl).toBe('https://kvsub-abc123xyz.vault.azure.net');
    expect(text(sourceExpression(values.SUBSCRIPTION_VAULT_URL!, scope))).toMatch(
      moduleOutput('subscriptionVault', 'uri'),
    );
    expect(parsed.partnerClientSecret).toBeUndefined();
    // The managed identity the app runs as is the federated credential: PARTNER_FEDERATED_CLIENT_ID = its client ID.
    expect(text(sourceExpression(values.PARTNER_FEDERATED_CLIENT_ID!, scope))).toMatch(
      moduleOutput('identity', 'clientId'),
    );
    expect(parsed.partnerCredential).toEqual({
      kind: 'federated',
      clientId: '11111111-2222-3333-4444-555555555555',
      audience: 'api://AzureADTokenExchange',
    });
    expect(parsed.partnerTenantId).toBe('77777777-6666-5555-4444-333333333333');
    expect(parsed.consentRedirectUri).toBe('https://func-abc123xyz.azurewebsites.net/api/consent/callback');
  });
});

suite('compiled template: Log Analytics delivery', () => {
  const DELIVERY_TYPES = [
    'Microsoft.Insights/dataCollectionEndpoints',
    'Microsoft.Insights/dataCollectionRules',
    'Microsoft.OperationalInsights/workspaces/tables',
  ];
  const deliveryModules = ['incidentTable', 'logAnalyticsDelivery'];

  it('is off by default, and every resource it adds sits in a module deployed only with logAnalyticsDelivery', () => {
    expect(template.parameters?.logAnalyticsDelivery).toMatchObject({ type: 'bool', defaultValue: false });
    for (const type of DELIVERY_TYPES) {
      const found = ofType(template, type);
      expect(found).toHaveLength(1);
      expect(deliveryModules).toContain(found[0]?.scope.path[0]);
    }
    for (const module of deliveryModules)
      expect(moduleScope(template, module).deployment?.condition).toBe("[parameters('logAnalyticsDelivery')]");
    // Outside those modules, nothing of Log Analytics delivery exists (the collector's own workspace aside).
    const outside = allResources(template).filter(
      (l) => !deliveryModules.includes(l.scope.path[0] ?? '') && DELIVERY_TYPES.includes(l.resource.type),
    );
    expect(outside).toEqual([]);
    const outputs = template.outputs ?? {};
    for (const name of ['LOG_ANALYTICS_ENDPOINT', 'LOG_ANALYTICS_RULE_ID'])
      expect(text(outputs[name]?.value)).toMatch(/^\[coalesce\(tryGet\(if\(parameters\('logAnalyticsDelivery'\), /);
    expect(text(outputs.LOG_ANALYTICS_STREAM?.value)).toBe(
      "[if(parameters('logAnalyticsDelivery'), variables('incidentStreamName'), '')]",
    );
  });

  it('creates the table DefenderIncidents_CL with the design §9 columns, Incident dynamic, no reserved column name', () => {
    const { resource, scope } = single(template, 'Microsoft.OperationalInsights/workspaces/tables');
    expect(resolve("[parameters('tableName')]", scope)).toBe('DefenderIncidents_CL');
    const columns = resolve("[parameters('columns')]", scope) as Array<{ name: string; type: string }>;
    expect(columns.map((c) => [c.name, c.type])).toEqual([
      ['TimeGenerated', 'datetime'],
      ['CustomerTenantId', 'string'],
      ['IncidentId', 'string'],
      ['LastUpdateTime', 'datetime'],
      ['Source', 'string'],
      ['EventType', 'string'],
      ['Severity', 'string'],
      ['Status', 'string'],
      ['IncidentTitle', 'string'],
      ['ChangedFields', 'dynamic'],
      ['Incident', 'dynamic'],
    ]);
    // Names Log Analytics keeps for itself cannot be custom columns: the rule renames TenantId and Title.
    for (const reserved of ['TenantId', 'Title', 'Type', 'id', 'UniqueId', '_ResourceId', '_SubscriptionId'])
      expect(columns.map((c) => c.name)).not.toContain(reserved);
    expect(objectAt(resource.properties, 'plan')).toBe('Analytics');
  });

  it("declares the stream with exactly the columns the sender writes, and renames the reserved ones into the table's", () => {
    const { resource, scope } = single(template, 'Microsoft.Insights/dataCollectionRules');
    const stream = resolve("[parameters('streamName')]", scope);
    expect(stream).toBe('Custom-DefenderIncidents_CL');
    const declared = resolve("[parameters('streamColumns')]", scope) as Array<{ name: string; type: string }>;
    const row = toIncidentRow({
      specversion: '1.0',
      id: 't/1/x',
      source: '/tenants/t',
      type: 'incident.updated',
      subject: 'incidents/1',
      time: '2026-11-29T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: {
        tenantId: 't',
        incidentId: '1',
        lastUpdateTime: '2026-11-29T11:00:00Z',
        source: 'graph',
        sequence: 1,
        severity: 'high',
        status: 'active',
        title: 'x',
        changedFields: ['status'],
        incident: {},
      },
    });
    expect(declared.map((c) => c.name)).toEqual(Object.keys(row));
    expect(declared.filter((c) => c.type === 'dynamic').map((c) => c.name)).toEqual(['ChangedFields', 'Incident']);
    expect(resolve("[parameters('transformKql')]", scope)).toBe(
      'source | project-rename CustomerTenantId = TenantId, IncidentTitle = Title',
    );
    const flows = objectAt(resource.properties, 'dataFlows') as Json[];
    expect(flows).toHaveLength(1);
    expect(text(objectAt(flows[0], 'outputStream'))).toBe("[parameters('outputStreamName')]");
    expect(resolve("[parameters('outputStreamName')]", scope)).toBe('Custom-DefenderIncidents_CL');
    expect(text(objectAt(resource.properties, 'dataCollectionEndpointId'))).toMatch(/dataCollectionEndpoints/);
  });

  it("targets the workspace given as a parameter, by default the collector's own, through a module scoped to its resource group", () => {
    expect(template.parameters?.logAnalyticsWorkspaceId?.defaultValue).toBe('');
    expect(text(template.variables?.deliveryWorkspaceId)).toBe(
      "[if(empty(parameters('logAnalyticsWorkspaceId')), resourceId('Microsoft.OperationalInsights/workspaces', variables('names').workspace), parameters('logAnalyticsWorkspaceId'))]",
    );
    const table = moduleScope(template, 'incidentTable').deployment;
    expect(table?.subscriptionId).toBe("[variables('deliveryWorkspaceParts')[2]]");
    expect(table?.resourceGroup).toBe("[variables('deliveryWorkspaceParts')[4]]");
    const rule = moduleScope(template, 'logAnalyticsDelivery');
    expect(text(sourceExpression("[parameters('workspaceResourceId')]", rule))).toBe(
      text(template.variables?.deliveryWorkspaceId),
    );
    // The rule is created after the table it writes to.
    expect(rule.deployment?.dependsOn?.[0]).toMatch(/'incidentTable'\)\]$/);
  });
});

suite('compiled template: parameters and outputs', () => {
  it('outputs the app name, URL, consent redirect URI and vault name — and nothing secret', () => {
    const outputs = template.outputs ?? {};
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining(['FUNCTION_APP_NAME', 'FUNCTION_APP_URL', 'CONSENT_REDIRECT_URI', 'KEY_VAULT_NAME']),
    );
    expect(text(outputs.CONSENT_REDIRECT_URI?.value)).toMatch(moduleOutput('functionApp', 'consentRedirectUri'));
    expect(text(outputs.FUNCTION_APP_URL?.value)).toMatch(
      /^\[format\('https:\/\/\{0\}', reference\(resourceId\('Microsoft\.Resources\/deployments', 'functionApp'\)/,
    );
    const everyOutput = [template, ...allResources(template).map((l) => l.scope.template)].flatMap((t) =>
      Object.entries(t.outputs ?? {}),
    );
    for (const [name, output] of everyOutput) {
      expect(output.type.toLowerCase()).not.toMatch(/^secure/);
      // The secret's *name* may be output (the operator needs it); nothing that could carry a secret value may.
      const shown = `${name} ${text(output.value)}`.replace(/secret_?name/gi, 'NAME');
      expect(shown).not.toMatch(/secret|password|ConnectionString|InstrumentationKey|list[A-Z]\w*\(/i);
    }
  });

  it('describes every parameter AVM-style (Required./Optional.)', () => {
    const templates = [
      template,
      ...allResources(template).flatMap((l) =>
        l.resource.properties?.template ? [l.resource.properties.template] : [],
      ),
    ];
    for (const t of templates) {
      for (const [name, declaration] of Object.entries(t.parameters ?? {})) {
        expect(`${name}: ${declaration.metadata?.description ?? ''}`).toMatch(/^\w+: (Required|Optional)\. \S/);
      }
    }
  });

  it('has a parameters file for azd that covers every required parameter and names no unknown one', () => {
    const file = JSON.parse(readFileSync(new URL('../../infra/main.parameters.json', import.meta.url), 'utf8')) as {
      parameters: Record<string, { value: string }>;
    };
    const declared = template.parameters ?? {};
    for (const name of Object.keys(file.parameters)) expect(Object.keys(declared)).toContain(name);
    const required = Object.entries(declared)
      .filter(([, d]) => d.defaultValue === undefined)
      .map(([name]) => name);
    expect(Object.keys(file.parameters)).toEqual(expect.arrayContaining(required));
    expect(file.parameters.environmentName?.value).toBe('${AZURE_ENV_NAME}');
    expect(file.parameters.deployerPrincipalId?.value).toBe('${AZURE_PRINCIPAL_ID}');
    expect(JSON.stringify(file)).not.toMatch(/secret\W*"\s*:\s*\{\s*"value"/i);
  });
});

suite('azure.yaml', () => {
  const yaml = readFileSync(new URL('../../azure.yaml', import.meta.url), 'utf8');
  /** The keys of the one service, read by indentation (no YAML parser in the dependencies). */
  const service = () => {
    const lines = yaml.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    const start = lines.findIndex((l) => l === 'services:');
    const nameLine = lines[start + 1] ?? '';
    const rest = lines.slice(start + 2);
    const end = rest.findIndex((l) => !l.startsWith('    '));
    const body = end === -1 ? rest : rest.slice(0, end);
    return { name: nameLine.trim().replace(/:$/, ''), body: body.join('\n') };
  };

  it('deploys one JavaScript service to a function host, from the bundled package, without a remote build', () => {
    const { body } = service();
    expect(body).toMatch(/^ {4}host: function$/m);
    expect(body).toMatch(/^ {4}language: js$/m);
    expect(body).toMatch(/^ {4}project: \.$/m);
    expect(body).toMatch(/^ {4}remoteBuild: false$/m);
    expect(body).toMatch(/^ {4}dist: \S+$/m);
    expect(body.match(/^ {10}run: npm run package$/gm)).toHaveLength(2);
    expect(body).toMatch(/^ {6}prepackage:$/m);
  });

  it('names the service the way the Function App is tagged, so azd finds its target', () => {
    const site = single(template, 'Microsoft.Web/sites');
    expect(site.resource.tags).toBe(
      "[union(parameters('tags'), createObject('azd-service-name', parameters('azdServiceName')))]",
    );
    expect(resolve("[parameters('azdServiceName')]", site.scope)).toBe(service().name);
  });

  it('provisions infra/main.bicep with bicep', () => {
    expect(yaml).toMatch(/^infra:\n {2}provider: bicep\n {2}path: infra\n {2}module: main$/m);
  });
});
