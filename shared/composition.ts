/**
 * The one composition root: settings → adapters → use-case dependencies. Clients are built lazily on first use
 * (cold starts stay short; a command that never touches Key Vault never builds its client), and one instance of
 * each lives for the process (one credential per tenant inside the token provider, one limiter per source).
 */
import type { Settings } from './config/settings.js';
import { primarySource, scopeFor } from './config/settings.js';
import { GRAPH_READ_ROLES, GraphIncidentSource } from './adapters/graphSource.js';
import { createIncidentHttp, type IncidentHttp, type IncidentHttpOptions } from './adapters/http.js';
import { M365D_READ_ROLES, M365dIncidentSource } from './adapters/m365dSource.js';
import { limiterFor, type QuotaWindow, type RateLimiter } from './adapters/rateLimiter.js';
import { createAzureCredential, KeyVaultSecretProvider, StaticSecretProvider } from './adapters/secretProvider.js';
import { createTableStores, type TableStores, type TableStoreOptions } from './adapters/tables/tableStores.js';
import { TableSubscriptionSecrets } from './adapters/delivery/tableSubscriptionSecrets.js';
import { KeyVaultSubscriptionSecrets } from './adapters/delivery/subscriptionSecrets.js';
import { createLogsIngestionSender } from './adapters/delivery/logsIngestionSender.js';
import { createWebhookSender } from './adapters/delivery/webhookSender.js';
import { EntraTokenProvider } from './adapters/tokenProvider.js';
import {
  CertificateCredentialSource,
  FederatedCredentialSource,
  SecretCredentialSource,
  type PartnerCredentialSource,
} from './adapters/partnerCredential.js';
import { normaliseCredential } from './domain/credentialValue.js';
import { registerSecret, stderrLogger } from './log.js';
import { LEGACY_RETIREMENT, legacyDeadlineNear, noMetrics } from './ports.js';
import type {
  Clock,
  CollectorMetrics,
  ConsentStateStore,
  DeliveryHealth,
  SubscriptionSummary,
  EventLog,
  IncidentReader,
  DeliveryStateStore,
  LogAnalyticsSender,
  SubscriptionSecretStore,
  SubscriptionStore,
  WebhookSender,
  IncidentSource,
  SourceRegistry,
  LeaseStore,
  Logger,
  RunStore,
  SecretProvider,
  SecretRead,
  SnapshotStore,
  SourceKind,
  TenantStore,
  TokenProvider,
} from './ports.js';
import type { CollectDeps } from './usecases/collectTenant.js';
import type { DeliverDeps } from './usecases/deliver.js';
import { deliveryHealth, subscriptionSummaries, type SubscriptionDeps } from './usecases/subscriptions.js';
import type { ConsentCallbackDeps, ConsentLinkDeps } from './usecases/consent.js';
import type { HealthDeps } from './usecases/health.js';
import type { PlanDeps } from './usecases/planRun.js';
import type { StatusViewDeps } from './usecases/statusView.js';
import type { RetentionDeps } from './usecases/retention.js';
import type { RunDeps } from './usecases/runCollection.js';
import type { TenantDeps } from './usecases/tenants.js';

export interface ServiceOptions {
  readonly logger?: Logger;
  readonly clock?: Clock;
  /**
   * Quota windows the source's limiter keeps under, per source, instead of the documented SOURCE_QUOTAS. A test
   * seam for any stack whose simulated quota windows pass faster than real time (integration tests, the
   * benchmark, devstack's `timeScale`): the limiter must count the same windows the simulator counts, and
   * production never sets it. Windows are used as given (devstack's scaledSourceQuotas divides the documented
   * ones); the limiter's margin and its fixed wire-time guard still apply.
   */
  readonly quotas?: Partial<Readonly<Record<SourceKind, readonly QuotaWindow[]>>>;
  readonly http?: IncidentHttpOptions;
  readonly tables?: TableStoreOptions;
  /** The webhook sender instead of the got one (specs that script receivers' answers). */
  readonly webhookSender?: WebhookSender;
  /** The Logs Ingestion sender instead of the Azure Monitor one (specs). */
  readonly logAnalyticsSender?: LogAnalyticsSender;
  /** Environment for the Key Vault/Storage identity (AZURE_CLIENT_ID…); defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Where the core's metrics go (shared/telemetry/ when telemetry is on); default: nowhere. */
  readonly metrics?: CollectorMetrics;
}

export interface Services {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly tenants: TenantStore;
  readonly leases: LeaseStore;
  readonly snapshots: SnapshotStore;
  readonly runs: RunStore;
  readonly consentStates: ConsentStateStore;
  /** The change feed: one entry per stored version, per tenant in sequence order (design §9). */
  readonly events: EventLog;
  /** Bounded reads of stored incidents for the HTTP read API (design §10). */
  readonly incidents: IncidentReader;
  /** Where events go (design §9). */
  readonly subscriptions: SubscriptionStore;
  /** Cursors, pending retries and dead letters per subscription (delivery engine). */
  readonly deliveryState: DeliveryStateStore;
  /** Webhook secrets: the `SUBSCRIPTION_VAULT_URL` Key Vault, or the `SubscriptionSecrets` table when it is unset. */
  readonly subscriptionSecrets: SubscriptionSecretStore;
  readonly webhookSender: WebhookSender;
  /** Logs Ingestion (Azure Monitor) with the collector's Azure identity, for log-analytics subscriptions. */
  readonly logAnalyticsSender: LogAnalyticsSender;
  /** The primary source (`graph` for `INCIDENT_SOURCE=graph|auto`, else `m365d`): consent, new tenants. */
  readonly source: IncidentSource;
  /** Tokens for the primary source's scope and roles. */
  readonly tokens: TokenProvider;
  /** Every source with its own scope, roles, limiter and paging: a run collects each tenant from its own. */
  readonly sources: SourceRegistry;
  /** The Key Vault read behind `secret`/`certificate` (a certificate is read through its secret). */
  readonly secrets: SecretProvider;
  /** The partner credential of `PARTNER_CREDENTIAL` (design §3). */
  readonly partnerCredential: PartnerCredentialSource;
  /** The token provider with its credential description (`credentials check`, Runs rows). */
  readonly entraTokens: EntraTokenProvider;
  readonly http: IncidentHttp;
  /** Delivery's dead-letter count for health (design §9, §11): dead letters of the last 24 hours. */
  readonly deliveryHealth?: () => Promise<DeliveryHealth>;
  /** Delivery's subscriptions for the status page (the `subscriptions list --json` items). */
  readonly subscriptionList?: () => Promise<readonly SubscriptionSummary[]>;
  /** The process's metrics (`noMetrics` when telemetry is off). */
  readonly metrics: CollectorMetrics;
  /** Create the tables once per process. */
  ready(): Promise<void>;
  collectDeps(): CollectDeps;
  runDeps(): RunDeps;
  planDeps(): PlanDeps;
  tenantDeps(): TenantDeps;
  consentLinkDeps(): ConsentLinkDeps;
  consentCallbackDeps(): ConsentCallbackDeps;
  /** Health (design §11), with delivery's count when wired. */
  healthDeps(): HealthDeps;
  /** The operator's view: health plus runs and delivery's subscriptions when wired. */
  statusDeps(): StatusViewDeps;
  deliverDeps(): DeliverDeps;
  subscriptionDeps(): SubscriptionDeps;
  /** The daily prune (HISTORY_RETENTION_DAYS, orphan payload chunks). */
  retentionDeps(): RetentionDeps;
}

export const systemClock: Clock = { now: () => new Date() };

/** A secret provider that registers every value it hands out with the log redactor. */
function redacting(inner: SecretProvider): SecretProvider {
  const remember = (s: SecretRead) => {
    registerSecret(s.value);
    return s;
  };
  return {
    getSecret: async () => remember(await inner.getSecret()),
    refresh: async () => remember(await inner.refresh()),
  };
}

function lazy<T>(build: () => T): () => T {
  let value: { v: T } | undefined;
  return () => (value ??= { v: build() }).v;
}

export function createServices(settings: Settings, options: ServiceOptions = {}): Services {
  const logger = options.logger ?? stderrLogger();
  const clock = options.clock ?? systemClock;
  const env = options.env ?? process.env;
  const metrics = options.metrics ?? noMetrics;
  if (settings.partnerClientSecret !== undefined)
    registerSecret(normaliseCredential(settings.partnerClientSecret).value);

  const azureCredential = lazy(() => createAzureCredential(settings, env));
  const tables = lazy((): TableStores =>
    createTableStores(settings.storage, {
      clock,
      ...options.tables,
      credential: settings.storage.kind === 'identity' ? azureCredential() : undefined,
      logger,
    }),
  );
  const credentialSettings = settings.partnerCredential;
  const secretName =
    credentialSettings.kind === 'certificate' ? credentialSettings.certificateName : settings.partnerSecretName;
  const secrets = lazy((): SecretProvider =>
    redacting(
      settings.keyVaultUrl !== undefined
        ? new KeyVaultSecretProvider({
            vaultUrl: settings.keyVaultUrl,
            secretName,
            credential: azureCredential(),
            logger,
          })
        : new StaticSecretProvider(settings.partnerClientSecret ?? '', logger),
    ),
  );
  const authority = {
    clientId: settings.partnerClientId,
    authorityHost: settings.authorityHost,
    ...(settings.isMicrosoftAuthority ? {} : { disableInstanceDiscovery: true }),
  };
  const partnerCredential = lazy((): PartnerCredentialSource => {
    switch (credentialSettings.kind) {
      case 'certificate':
        return new CertificateCredentialSource(secrets(), authority, credentialSettings.certificateName);
      case 'federated':
        return new FederatedCredentialSource({
          ...authority,
          managedIdentityClientId: credentialSettings.clientId,
          audience: credentialSettings.audience,
        });
      default:
        return new SecretCredentialSource(
          secrets(),
          authority,
          settings.keyVaultUrl !== undefined ? settings.partnerSecretName : undefined,
        );
    }
  });
  const http = lazy(() => createIncidentHttp({ logger, metrics, ...options.http }));
  // One token provider, limiter and source per source kind, each built on first use.
  const tokensFor = (kind: SourceKind): EntraTokenProvider =>
    new EntraTokenProvider({
      authorityHost: settings.authorityHost,
      clientId: settings.partnerClientId,
      credentialSource: partnerCredential(),
      scope: scopeFor(settings, kind),
      readRoles: kind === 'graph' ? GRAPH_READ_ROLES : M365D_READ_ROLES,
      disableInstanceDiscovery: !settings.isMicrosoftAuthority,
      logger,
    });
  const buildSource = (kind: SourceKind, tokenProvider: TokenProvider): IncidentSource => {
    const quotas = options.quotas?.[kind];
    const limiter: RateLimiter = limiterFor(kind, quotas ? { quotas } : {});
    return kind === 'graph'
      ? new GraphIncidentSource({
          endpoint: settings.graphEndpoint,
          tokenProvider,
          http: http(),
          limiter,
          logger,
        })
      : new M365dIncidentSource({
          endpoint: settings.m365dEndpoint,
          tokenProvider,
          http: http(),
          limiter,
          logger,
        });
  };
  const pairs: Record<SourceKind, () => { source: IncidentSource; tokens: EntraTokenProvider }> = {
    graph: lazy(() => {
      const t = tokensFor('graph');
      return { source: buildSource('graph', t), tokens: t };
    }),
    m365d: lazy(() => {
      const t = tokensFor('m365d');
      return { source: buildSource('m365d', t), tokens: t };
    }),
  };
  const registry: SourceRegistry = {
    defaultSetting: settings.incidentSource,
    sourceFor: (kind) => pairs[kind](),
  };
  const primary = primarySource(settings);
  const tokens = () => pairs[primary]().tokens;
  const source = () => pairs[primary]().source;
  if (settings.incidentSource === 'm365d' && legacyDeadlineNear(clock.now())) {
    logger.warn('settings.legacy_source_retiring', {
      message: `INCIDENT_SOURCE=m365d: the legacy incidents API stops on ${LEGACY_RETIREMENT.slice(0, 10)}. Check readiness with "incident-collector sources check" and move tenants with "incident-collector tenants set-source <id> graph" (or set INCIDENT_SOURCE=auto).`,
    });
  }
  const ready = lazy(() => tables().ensureTables());
  // Webhook secrets: the subscription vault in Azure (SUBSCRIPTION_VAULT_URL); the table for local development only.
  const subscriptionSecrets = lazy((): SubscriptionSecretStore =>
    settings.subscriptionVaultUrl !== undefined
      ? new KeyVaultSubscriptionSecrets({ vaultUrl: settings.subscriptionVaultUrl, credential: azureCredential() })
      : new TableSubscriptionSecrets(tables().clients),
  );
  const logAnalyticsSender = lazy(
    (): LogAnalyticsSender =>
      options.logAnalyticsSender ?? createLogsIngestionSender({ settings, env, credential: azureCredential() }),
  );
  const webhookSender = lazy(
    (): WebhookSender =>
      options.webhookSender ?? createWebhookSender({ timeoutSeconds: settings.deliveryTimeoutSeconds, clock }),
  );
  const sync = {
    overlapSeconds: settings.syncOverlapSeconds,
    lagSeconds: settings.syncLagSeconds,
    initialLookbackDays: settings.syncInitialLookbackDays,
    reprobeHours: settings.reprobeHours,
  };

  const services: Services = {
    settings,
    logger,
    clock,
    metrics,
    get tenants() {
      return tables().tenants;
    },
    get leases() {
      return tables().leases;
    },
    get snapshots() {
      return tables().snapshots;
    },
    get runs() {
      return tables().runs;
    },
    get consentStates() {
      return tables().consentStates;
    },
    get events() {
      return tables().events;
    },
    get incidents() {
      return tables().incidents;
    },
    get subscriptions() {
      return tables().subscriptions;
    },
    get deliveryState() {
      return tables().deliveryState;
    },
    get subscriptionSecrets() {
      return subscriptionSecrets();
    },
    get webhookSender() {
      return webhookSender();
    },
    get logAnalyticsSender() {
      return logAnalyticsSender();
    },
    deliveryHealth: () => deliveryHealth(services.subscriptionDeps()),
    subscriptionList: () => subscriptionSummaries(services.subscriptionDeps()),
    get source() {
      return source();
    },
    get tokens() {
      return tokens();
    },
    sources: registry,
    get secrets() {
      return secrets();
    },
    get partnerCredential() {
      return partnerCredential();
    },
    get entraTokens() {
      return tokens();
    },
    get http() {
      return http();
    },
    ready: () => ready(),
    collectDeps: () => ({
      tenants: services.tenants,
      leases: services.leases,
      snapshots: services.snapshots,
      quarantine: tables().quarantine,
      source: services.source,
      tokens: services.tokens,
      sources: registry,
      clock,
      logger,
      sync,
      metrics,
    }),
    runDeps: () => ({ ...services.collectDeps(), runs: services.runs, concurrency: settings.tenantConcurrency }),
    planDeps: () => ({
      tenants: services.tenants,
      runs: services.runs,
      clock,
      logger,
      reprobeHours: settings.reprobeHours,
      tokens: services.tokens,
    }),
    tenantDeps: () => ({
      tenants: services.tenants,
      snapshots: services.snapshots,
      source: services.source,
      tokens: services.tokens,
      sources: registry,
      clock,
      logger,
    }),
    consentLinkDeps: () => ({
      consentStates: services.consentStates,
      clock,
      authorityHost: settings.authorityHost,
      clientId: settings.partnerClientId,
      scope: scopeFor(settings),
      redirectUri: settings.consentRedirectUri,
      logger,
    }),
    consentCallbackDeps: () => ({
      consentStates: services.consentStates,
      tenants: services.tenants,
      tokens: services.tokens,
      source: services.source,
      sources: registry,
      clock,
      logger,
    }),
    healthDeps: () => ({
      runs: services.runs,
      tenants: services.tenants,
      clock,
      logger,
      defaultSource: settings.incidentSource,
      staleAfterMinutes: settings.staleAfterMinutes,
      ...(services.deliveryHealth ? { deliveryHealth: services.deliveryHealth } : {}),
    }),
    statusDeps: () => ({
      ...services.healthDeps(),
      ...(services.subscriptionList ? { subscriptions: services.subscriptionList } : {}),
    }),
    deliverDeps: () => ({
      subscriptions: services.subscriptions,
      state: services.deliveryState,
      events: services.events,
      tenants: services.tenants,
      leases: services.leases,
      secrets: services.subscriptionSecrets,
      webhook: services.webhookSender,
      // Built on first use: a fleet without log-analytics subscriptions never builds the Monitor client.
      logAnalytics: { send: (target, events, opts) => services.logAnalyticsSender.send(target, events, opts) },
      clock,
      logger,
      metrics,
      retrySchedule: settings.deliveryRetrySchedule,
      timeoutSeconds: settings.deliveryTimeoutSeconds,
    }),
    subscriptionDeps: () => ({
      subscriptions: services.subscriptions,
      state: services.deliveryState,
      secrets: services.subscriptionSecrets,
      // Read on use: `add` (lastSequence), `replay --since` and a disabled subscription's backlog read the event log.
      events: {
        read: (tenantId, afterSequence, limit) => services.events.read(tenantId, afterSequence, limit),
        cloudEvent: (entry) => services.events.cloudEvent(entry),
        lastSequence: (tenantId) => services.events.lastSequence(tenantId),
      },
      tenants: services.tenants,
      clock,
      logger,
      redact: registerSecret,
    }),
    retentionDeps: () => ({
      pruner: tables().historyPruner,
      subscriptions: services.subscriptions,
      deliveryState: services.deliveryState,
      clock,
      logger,
      retentionDays: settings.historyRetentionDays,
      concurrency: Math.min(settings.tenantConcurrency, 4),
    }),
  };
  return services;
}
