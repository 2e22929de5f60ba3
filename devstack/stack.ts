/**
 * startLocalStack: the whole outside world of the collector on 127.0.0.1 — Entra ID, Key Vault (the partner
 * credential's vault, read-only to the collector, and the subscription-secrets vault it may write), Microsoft Graph,
 * the legacy Defender API and an Azure Monitor Logs Ingestion endpoint as HTTPS simulators sharing one run-time CA,
 * plus Azurite — and the environment (design §3 settings) that points the collector at them.
 */
import { AppInsightsSim } from './appInsights.js';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Azurite, freePort } from './azurite.js';
import {
  createPartnerCertificate,
  createSimCertificates,
  type PartnerCertificate,
  type SimCertificates,
} from './certs.js';
import { EntraSim } from './entra.js';
import { GRAPH_READ_ROLES, GraphSim } from './graph.js';
import { KeyVaultSim } from './keyVault.js';
import { LEGACY_READ_ROLES, LegacySim } from './legacy.js';
import { LogsIngestionSim } from './logsIngestion.js';
import { Prng } from './prng.js';
import { WebhookReceiverSim } from './webhookReceiver.js';
import type { SimServer } from './simServer.js';
import { DefenderWorld, type SimTenantSpec } from './world.js';

export type { SimTenantSpec } from './world.js';
export type { Fault, SimRequest } from './simServer.js';
export { DefenderWorld } from './world.js';
export { AppInsightsSim } from './appInsights.js';
export { EntraSim } from './entra.js';
export { KeyVaultSim } from './keyVault.js';
export { GraphSim } from './graph.js';
export { LegacySim } from './legacy.js';
export { LogsIngestionSim } from './logsIngestion.js';

/** The stream of the stack's data collection rule (the custom table `DefenderIncidents_CL`, as the Bicep names it). */
export const LOG_ANALYTICS_STREAM = 'Custom-DefenderIncidents_CL';
export { WebhookReceiverSim, type ReceivedDelivery } from './webhookReceiver.js';

export const PARTNER_SECRET_NAME = 'partner-client-secret';
/** The Key Vault certificate the stack's `certificate` mode uses. */
export const PARTNER_CERTIFICATE_NAME = 'partner-certificate';
/** The public cloud's token-exchange audience, which the stack's federated credential carries. */
export const SIM_TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export interface StackOptions {
  tenants: SimTenantSpec[];
  seed?: number; // default 1
  /** Seeded incidents get lastUpdate times spread over [now - spreadHours, now - minAgeSeconds]. */
  spreadHours?: number; // default 48
  minAgeSeconds?: number; // default 900 (older than the default 300 s lag)
  azurite?: boolean | { persistent: boolean }; // default true
  latency?: { apiMs?: number; tokenMs?: number; vaultMs?: number }; // added to every answer (bench)
  /** Quota windows are divided by this (legacy 50/min becomes 50 per 60/timeScale seconds). Default 1. */
  timeScale?: number;
  graphQuotaPerMinute?: number; // default 150 per tenant
  legacyQuotaPerMinute?: number; // default 50 per tenant (and legacyQuotaPerHour default 1500)
  legacyQuotaPerHour?: number; // default 1500 per tenant
  /**
   * Epoch-ms clock the Graph and legacy simulators' quotas count on (default Date.now). A test hands the same
   * clock to the collector's RateLimiter, so both sides see the same instants and "kept under the quota" does not
   * depend on how long a request takes to arrive on a busy machine.
   */
  quotaClock?: () => number;
  /**
   * `PARTNER_CREDENTIAL` of the environment (default `secret`). `certificate`: a certificate registered on the
   * app and stored in the Key Vault sim; `federated`: a user-assigned managed identity served by the Entra sim's
   * managed-identity endpoint (`IDENTITY_ENDPOINT`/`IDENTITY_HEADER` in `env`) and a federated credential
   * trusting it. The secret is registered in every mode.
   */
  credential?: 'secret' | 'certificate' | 'federated';
  /**
   * Start the Application Insights ingestion stand-in (devstack/appInsights.ts) and put its connection string in
   * `env` (APPLICATIONINSIGHTS_CONNECTION_STRING): the collector then sends its telemetry there. Default false.
   */
  appInsights?: boolean;
  /**
   * Expiry of the partner secret in the Key Vault sim (Key Vault `attributes.exp`), as a real partner sets it to
   * match the credential registered in Entra ID. Default none: the collector then warns CREDENTIAL_EXPIRY_UNKNOWN.
   */
  partnerSecretExpiresOn?: Date;
}

export interface LocalStack {
  /** Complete collector settings (design §3) + AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET (vault reader) + NODE_EXTRA_CA_CERTS. */
  readonly env: Record<string, string>;
  readonly caPem: string;
  readonly caFile: string;
  readonly world: DefenderWorld;
  readonly entra: EntraSim;
  readonly keyVault: KeyVaultSim;
  readonly graph: GraphSim;
  readonly legacy: LegacySim;
  /** The subscription-secrets vault (`SUBSCRIPTION_VAULT_URL`): the collector's identity may write it. */
  readonly subscriptionVault: KeyVaultSim;
  /** The Logs Ingestion endpoint with one data collection rule the collector's identity may publish to. */
  readonly logsIngestion: LogsIngestionSim;
  /** What `subscriptions add --log-analytics --endpoint … --rule … --stream …` takes for the stack's rule. */
  readonly logAnalytics: { readonly endpoint: string; readonly ruleId: string; readonly stream: string };
  /** A webhook receiver (design §9): endpoints with their own secrets, signature checks, scripted failures. */
  readonly webhooks: WebhookReceiverSim;
  readonly azurite?: Azurite;
  /** The partner app's current secret (also in the Key Vault sim under PARTNER_SECRET_NAME). */
  readonly partnerSecret: string;
  /** With `credential: 'certificate'`: the certificate registered on the app and stored under PARTNER_CERTIFICATE_NAME. */
  readonly partnerCertificate?: PartnerCertificate;
  /** With `credential: 'federated'`: the managed identity the app trusts. */
  readonly managedIdentity?: { readonly clientId: string; readonly principalId: string };
  /** With `appInsights: true`: the ingestion stand-in the collector's telemetry goes to. */
  readonly appInsights?: AppInsightsSim;
  trustInProcess(): void;
  stop(): Promise<void>;
}

/** Add the CA to this process's default trust store (Node 22.19+), once. */
function trustCa(caPem: string): void {
  const current = tls.getCACertificates('default');
  if (current.some((pem) => pem.trim() === caPem.trim())) return;
  tls.setDefaultCACertificates([...current, caPem]);
}

async function writeCaFile(caPem: string): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'sim-ca-'));
  const file = path.join(dir, 'ca.pem');
  await writeFile(file, caPem, { mode: 0o600 });
  return { dir, file };
}

function newSecret(): string {
  // Shaped like an Entra client secret value (40 chars with a `~`), random per stack.
  return `${randomBytes(3).toString('base64url').slice(0, 3)}8Q~${randomBytes(27).toString('base64url').slice(0, 34)}`;
}

function startAzurite(option: StackOptions['azurite']): Promise<Azurite> | undefined {
  if (option === false) return undefined;
  const persistent = typeof option === 'object' ? option.persistent : false;
  return new Azurite({ persistent }).start();
}

export async function startLocalStack(options: StackOptions): Promise<LocalStack> {
  const seed = options.seed ?? 1;
  const ids = new Prng(`stack:${seed}`);
  const partnerClientId = ids.guid();
  const homeTenantId = ids.guid();
  const readerClientId = ids.guid();
  const readerSecret = newSecret();
  const partnerSecret = newSecret();

  const certs: SimCertificates = await createSimCertificates();
  const ca = await writeCaFile(certs.caPem);
  const started: SimServer[] = [];
  let azurite: Azurite | undefined;
  const appInsights = options.appInsights ? new AppInsightsSim() : undefined;
  const cleanup = async () => {
    await Promise.all([...started.map((s) => s.stop()), appInsights?.stop()]);
    await azurite?.stop();
    await rm(ca.dir, { recursive: true, force: true });
  };

  try {
    const azuriteStarting = startAzurite(options.azurite);
    const world = new DefenderWorld({
      seed,
      ...(options.spreadHours !== undefined ? { spreadHours: options.spreadHours } : {}),
      ...(options.minAgeSeconds !== undefined ? { minAgeSeconds: options.minAgeSeconds } : {}),
    });
    const entra = await EntraSim.create({
      partnerClientId,
      homeTenantId,
      readerClientId,
      readerSecret,
      partnerSecrets: [partnerSecret],
    });
    // The partner credential's vault: nobody writes it through the collector (design §9).
    const keyVault = new KeyVaultSim(entra, `vault:${seed}`);
    const subscriptionVault = new KeyVaultSim(entra, `subscription-vault:${seed}`, {
      writers: [readerClientId],
      purgeProtection: true,
    });
    const logsIngestion = new LogsIngestionSim(entra);
    const timeScale = options.timeScale ?? 1;
    const quotaClock = options.quotaClock ? { quotaClock: options.quotaClock } : {};
    const graph = new GraphSim(world, entra, {
      timeScale,
      ...quotaClock,
      ...(options.graphQuotaPerMinute !== undefined ? { quotaPerMinute: options.graphQuotaPerMinute } : {}),
    });
    const legacy = new LegacySim(world, entra, {
      timeScale,
      ...quotaClock,
      ...(options.legacyQuotaPerMinute !== undefined ? { quotaPerMinute: options.legacyQuotaPerMinute } : {}),
      ...(options.legacyQuotaPerHour !== undefined ? { quotaPerHour: options.legacyQuotaPerHour } : {}),
    });
    const webhooks = new WebhookReceiverSim();
    const servers = [entra, keyVault, subscriptionVault, logsIngestion, graph, legacy, webhooks];
    for (const server of servers) started.push(server);
    await Promise.all(servers.map((s) => s.start(certs)));
    await appInsights?.start(certs);
    azurite = await azuriteStarting;

    entra.latencyMs = options.latency?.tokenMs ?? 0;
    keyVault.latencyMs = options.latency?.vaultMs ?? 0;
    graph.latencyMs = options.latency?.apiMs ?? 0;
    legacy.latencyMs = options.latency?.apiMs ?? 0;
    entra.registerApi(graph.url, [GRAPH_READ_ROLES[0] as string]);
    entra.registerApi(legacy.url, [LEGACY_READ_ROLES[0] as string]);
    for (const spec of options.tenants) {
      world.addTenant(spec);
      entra.setTenantConsent(spec.tenantId, spec.consent ?? 'granted');
    }
    keyVault.setSecret(
      PARTNER_SECRET_NAME,
      partnerSecret,
      options.partnerSecretExpiresOn ? { expiresOn: options.partnerSecretExpiresOn } : {},
    );
    // The partner's own tenant holds the app's service principal: `credentials check` proves the credential there.
    entra.setTenantConsent(homeTenantId, 'granted');
    const credentialEnv: Record<string, string> = {};
    let partnerCertificate: PartnerCertificate | undefined;
    let managedIdentity: { clientId: string; principalId: string } | undefined;
    if (options.credential === 'certificate') {
      partnerCertificate = await createPartnerCertificate();
      entra.registerCertificate(partnerCertificate.certPem);
      keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, partnerCertificate.pem, partnerCertificate.certPem);
      Object.assign(credentialEnv, { PARTNER_CREDENTIAL: 'certificate', PARTNER_CERTIFICATE_NAME });
    } else if (options.credential === 'federated') {
      const clientId = new Prng(`stack:${seed}:managed-identity`).guid();
      const principalId = entra.addManagedIdentity(clientId);
      entra.addFederatedCredential({
        issuer: entra.homeIssuer,
        subject: principalId,
        audience: SIM_TOKEN_EXCHANGE_AUDIENCE,
      });
      managedIdentity = { clientId, principalId };
      subscriptionVault.allowWriter(clientId);
      Object.assign(credentialEnv, {
        PARTNER_CREDENTIAL: 'federated',
        PARTNER_FEDERATED_CLIENT_ID: clientId,
        IDENTITY_ENDPOINT: entra.identityEndpoint,
        IDENTITY_HEADER: entra.identityHeader,
      });
    }
    // The collector's identities (the vault reader; the managed identity in `federated` mode) publish to the rule.
    const logAnalytics = {
      endpoint: logsIngestion.url,
      ruleId: `dcr-${new Prng(`stack:${seed}:dcr`).hex(32)}`,
      stream: LOG_ANALYTICS_STREAM,
    };
    logsIngestion.addRule(
      logAnalytics.ruleId,
      [LOG_ANALYTICS_STREAM],
      [readerClientId, ...(managedIdentity ? [managedIdentity.clientId] : [])],
    );
    const redirectUri = `https://127.0.0.1:${await freePort()}/api/consent/callback`;
    entra.addRedirectUri(redirectUri);

    const env: Record<string, string> = {
      PARTNER_CLIENT_ID: partnerClientId,
      KEY_VAULT_URL: keyVault.url,
      PARTNER_SECRET_NAME,
      SUBSCRIPTION_VAULT_URL: subscriptionVault.url,
      AZURE_AUTHORITY_HOST: entra.url,
      GRAPH_ENDPOINT: graph.url,
      M365D_ENDPOINT: legacy.url,
      CONSENT_REDIRECT_URI: redirectUri,
      PARTNER_TENANT_ID: homeTenantId,
      ...credentialEnv,
      AZURE_TENANT_ID: homeTenantId,
      AZURE_CLIENT_ID: readerClientId,
      AZURE_CLIENT_SECRET: readerSecret,
      NODE_EXTRA_CA_CERTS: ca.file,
      ...(azurite ? { AzureWebJobsStorage: azurite.connectionString } : {}),
      ...(appInsights ? { APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.connectionString() } : {}),
    };
    let stopped = false;
    return {
      env,
      caPem: certs.caPem,
      caFile: ca.file,
      world,
      entra,
      keyVault,
      graph,
      legacy,
      subscriptionVault,
      logsIngestion,
      logAnalytics,
      webhooks,
      ...(azurite ? { azurite } : {}),
      partnerSecret,
      ...(partnerCertificate ? { partnerCertificate } : {}),
      ...(managedIdentity ? { managedIdentity } : {}),
      ...(appInsights ? { appInsights } : {}),
      trustInProcess: () => trustCa(certs.caPem),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
