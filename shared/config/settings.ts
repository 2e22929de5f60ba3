/**
 * Settings (design §3, a contract): environment variables locally, app settings in Azure.
 * Parsed once into a frozen object; the first bad setting stops start-up with its name in the message.
 */
import { z } from 'zod';
import { ConfigError } from '../domain/errors.js';
import { isGuid } from '../domain/tenantId.js';
import type { SourceKind, SourceSetting } from '../ports.js';

export type Cloud = 'public' | 'gcc' | 'gcchigh' | 'dod';

export const CLOUD_ENDPOINTS: Readonly<Record<Cloud, { authority: string; graph: string; m365d: string }>> = {
  public: {
    authority: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    m365d: 'https://api.security.microsoft.com',
  },
  gcc: {
    authority: 'https://login.microsoftonline.com',
    graph: 'https://graph.microsoft.com',
    m365d: 'https://api-gcc.security.microsoft.us',
  },
  gcchigh: {
    authority: 'https://login.microsoftonline.us',
    graph: 'https://graph.microsoft.us',
    m365d: 'https://api-gov.security.microsoft.us',
  },
  dod: {
    authority: 'https://login.microsoftonline.us',
    graph: 'https://dod-graph.microsoft.us',
    m365d: 'https://api-gov.security.microsoft.us',
  },
};

/**
 * The token-exchange audience a managed-identity token must carry to be accepted as a federated client assertion,
 * per cloud. Source: Microsoft Learn, "Configure an application to trust a managed identity"
 * (https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity):
 * public cloud `api://AzureADTokenExchange`, US Government ("Fairfax", login.microsoftonline.us)
 * `api://AzureADTokenExchangeUSGov`. GCC tenants sign in at the public authority, so they use the public value.
 */
export const TOKEN_EXCHANGE_AUDIENCE: Readonly<Record<Cloud, string>> = {
  public: 'api://AzureADTokenExchange',
  gcc: 'api://AzureADTokenExchange',
  gcchigh: 'api://AzureADTokenExchangeUSGov',
  dod: 'api://AzureADTokenExchangeUSGov',
};

/** The kinds of partner credential (`PARTNER_CREDENTIAL`). */
export type PartnerCredentialKind = 'secret' | 'certificate' | 'federated';

/**
 * How the collector proves the partner app's identity (design §3):
 * - `secret`: the client secret from Key Vault (`PARTNER_SECRET_NAME`) or `PARTNER_CLIENT_SECRET` locally;
 * - `certificate`: the Key Vault certificate `certificateName`, read versionless through its secret (PEM or PKCS#12);
 * - `federated`: the user-assigned managed identity `clientId`'s token for `audience` is the client assertion.
 */
export type PartnerCredentialSettings =
  | { readonly kind: 'secret' }
  | { readonly kind: 'certificate'; readonly certificateName: string }
  | { readonly kind: 'federated'; readonly clientId: string; readonly audience: string };

/** How the app reaches Table/Queue storage. */
export type StorageSettings =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | {
      readonly kind: 'identity';
      readonly tableServiceUri: string;
      readonly queueServiceUri: string;
      /** User-assigned managed identity client ID (`AzureWebJobsStorage__clientId`), if any. */
      readonly clientId?: string;
    };

export interface Settings {
  readonly partnerClientId: string;
  /** Key Vault URL, or undefined when the local-only `PARTNER_CLIENT_SECRET` is used. */
  readonly keyVaultUrl?: string;
  readonly partnerSecretName: string;
  /**
   * `SUBSCRIPTION_VAULT_URL`: the Key Vault of webhook subscription secrets (design §9), never the partner
   * credential's vault; undefined when unset (local development: the `SubscriptionSecrets` table).
   */
  readonly subscriptionVaultUrl?: string;
  /** `PARTNER_CLIENT_SECRET` as given (not blank); StaticSecretProvider normalises it (credentialValue.ts). */
  readonly partnerClientSecret?: string;
  /** `PARTNER_CREDENTIAL` and what that kind needs. */
  readonly partnerCredential: PartnerCredentialSettings;
  /** `PARTNER_TENANT_ID`: the partner's home tenant, for `credentials check`; undefined when unset. */
  readonly partnerTenantId?: string;
  /** `graph`, `m365d`, or `auto` (per tenant: Graph when its Graph token carries the role, else the legacy API). */
  readonly incidentSource: SourceSetting;
  readonly cloud: Cloud;
  readonly authorityHost: string;
  readonly graphEndpoint: string;
  readonly m365dEndpoint: string;
  readonly storage: StorageSettings;
  readonly collectSchedule: string;
  readonly consentRedirectUri?: string;
  readonly syncOverlapSeconds: number;
  readonly syncLagSeconds: number;
  readonly syncInitialLookbackDays: number;
  readonly reprobeHours: number;
  readonly tenantConcurrency: number;
  /**
   * `STALE_AFTER_MINUTES` (design §11): how old the newest finished run may be before health is `unhealthy`; also
   * the age a tenant's last success may have to count in `coverage`. Whole minutes, 1–10080 (7 days: health looks
   * back 7 days of runs).
   */
  readonly staleAfterMinutes: number;
  /** `DELIVERY_TIMEOUT_SECONDS`: how long a webhook may take to answer one POST (design §9), seconds. */
  readonly deliveryTimeoutSeconds: number;
  /**
   * `DELIVERY_RETRY_SCHEDULE`: the waits in seconds between delivery attempts (design §9); an event is attempted
   * `length + 1` times, then dead-lettered.
   */
  readonly deliveryRetrySchedule: readonly number[];
  /**
   * `HISTORY_RETENTION_DAYS` (design §3): history versions whose lastUpdateTime is older than this many days are
   * removed by the daily prune (never a latest version, never one with undelivered events); `0` keeps every version.
   */
  readonly historyRetentionDays: number;
  /** True when the authority is a Microsoft login host (instance discovery stays on). */
  readonly isMicrosoftAuthority: boolean;
}

/**
 * Tenants one process collects at once (`TENANT_CONCURRENCY`), chosen for the hourly run (issue 15 goals 2, 3, 5;
 * docs/performance.md) on the instance the Bicep deploys: Flex Consumption at 2,048 MB, one vCPU, running only the
 * collector. A tenant with no or few changes waits about t = 0.45 s (token 0.1 s, a Graph page 0.2 s, 6–9 Table round
 * trips) and costs the collector about c = 16 ms of CPU (benchmark, quiet machine). C tenants in flight keep the core
 * busy C × c ÷ t of the time, so:
 * - above about t ÷ c ≈ 27 the core saturates: more tenants in flight add memory and lengthen each tenant, not
 *   throughput (32 needs ≈ 1.15 cores: wall ≈ 16 ms × tenants against a bound of 0.32 s × tenants ÷ 32, ratio ≈ 1.6);
 * - while latency-bound, the speed-up over a sequential collector is about C (each lane takes what one sequential
 *   tenant takes), so the 20× of goal 3 needs C above 20 with some margin;
 * - fewer tenants in flight hold fewer pages, token caches being filled and Table batches at once (peak RSS, goal 5).
 * 24 is the largest value that leaves the core latency-bound (≈ 85 % busy) and the smallest that clears 20×. The
 * queue trigger's per-instance concurrency is host.json's (`batchSize` + `newBatchThreshold`), a separate knob.
 */
export const DEFAULT_TENANT_CONCURRENCY = 24;
/** `STALE_AFTER_MINUTES` default (design §11): a missed hourly run and a bit is still fine, two are not. */
export const DEFAULT_STALE_AFTER_MINUTES = 150;
/** Health reads the `Runs` partitions of the last 7 days, so a run may be at most that stale to be seen. */
export const MAX_STALE_AFTER_MINUTES = 7 * 24 * 60;
/** `HISTORY_RETENTION_DAYS` upper bound: 100 years (a larger value is a typo, not a policy). */
export const MAX_HISTORY_RETENTION_DAYS = 36500;
/** `DELIVERY_TIMEOUT_SECONDS` default (design §3). */
export const DEFAULT_DELIVERY_TIMEOUT_SECONDS = 15;
/** `DELIVERY_RETRY_SCHEDULE` default (design §3, §9): 7 waits = 8 attempts. */
export const DEFAULT_DELIVERY_RETRY_SCHEDULE = '5,300,1800,7200,18000,36000,36000';

/**
 * Parse `DELIVERY_RETRY_SCHEDULE`: 1–20 comma-separated whole seconds, each 1–604800 (a week). Throws ConfigError
 * naming the setting.
 */
export function parseRetrySchedule(raw: string): number[] {
  const parts = raw.split(',').map((p) => p.trim());
  const valid =
    parts.length >= 1 &&
    parts.length <= 20 &&
    parts.every((p) => /^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 7 * 86400);
  if (!valid) {
    const shown = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
    throw new ConfigError(
      'DELIVERY_RETRY_SCHEDULE',
      `Setting DELIVERY_RETRY_SCHEDULE is invalid: expected 1 to 20 comma-separated whole seconds between 1 and 604800, e.g. "${DEFAULT_DELIVERY_RETRY_SCHEDULE}"; got ${shown}.`,
    );
  }
  return parts.map(Number);
}

const MICROSOFT_LOGIN_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoftonline.us',
  'login.partner.microsoftonline.cn',
  'login.chinacloudapi.cn',
]);

type Env = Readonly<Record<string, string | undefined>>;

function present(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function parse<T>(name: string, schema: z.ZodType<T>, raw: string | undefined, hint: string): T {
  const result = schema.safeParse(raw);
  if (!result.success) {
    if (raw === undefined) throw new ConfigError(name, `Setting ${name} is missing: set it to ${hint}.`);
    const shown = JSON.stringify(raw.length > 80 ? `${raw.slice(0, 80)}…` : raw);
    throw new ConfigError(name, `Setting ${name} is invalid: expected ${hint}; got ${shown}.`);
  }
  return result.data;
}

const guid = z.string().refine(isGuid);
const httpsUrl = z.string().refine((v) => {
  try {
    const u = new URL(v);
    return u.protocol === 'https:' && u.hostname !== '';
  } catch {
    return false;
  }
});
const intIn = (min: number, max: number) =>
  z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(min).max(max));
/** NCRONTAB with six fields (seconds first), as Azure Functions timers require, or a %SETTING% expression. */
const ncrontab = z.string().refine((v) => v.trim().split(/\s+/).length === 6);
const secretName = z.string().regex(/^[0-9a-zA-Z-]{1,127}$/);

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function loadStorage(env: Env): StorageSettings {
  const conn = present(env, 'AzureWebJobsStorage');
  if (conn !== undefined) {
    if (conn !== 'UseDevelopmentStorage=true' && !/(^|;)\s*(AccountName|TableEndpoint)=/i.test(conn)) {
      throw new ConfigError(
        'AzureWebJobsStorage',
        'Setting AzureWebJobsStorage is invalid: expected a storage connection string (AccountName=…;AccountKey=… or UseDevelopmentStorage=true).',
      );
    }
    return { kind: 'connectionString', connectionString: conn };
  }
  const account = present(env, 'AzureWebJobsStorage__accountName');
  const tableUri = present(env, 'AzureWebJobsStorage__tableServiceUri');
  const queueUri = present(env, 'AzureWebJobsStorage__queueServiceUri');
  if (account === undefined && tableUri === undefined) {
    throw new ConfigError(
      'AzureWebJobsStorage',
      'Setting AzureWebJobsStorage is missing: set a connection string, or the identity-based form AzureWebJobsStorage__accountName (or __tableServiceUri and __queueServiceUri).',
    );
  }
  if (account !== undefined && !/^[a-z0-9]{3,24}$/.test(account)) {
    throw new ConfigError(
      'AzureWebJobsStorage__accountName',
      `Setting AzureWebJobsStorage__accountName is invalid: expected 3–24 lower-case letters and digits.`,
    );
  }
  const table = tableUri ?? `https://${account}.table.core.windows.net`;
  const queue = queueUri ?? (account !== undefined ? `https://${account}.queue.core.windows.net` : undefined);
  parse('AzureWebJobsStorage__tableServiceUri', httpsUrl, table, 'an https:// URL');
  if (queue === undefined)
    throw new ConfigError(
      'AzureWebJobsStorage__queueServiceUri',
      'Setting AzureWebJobsStorage__queueServiceUri is missing: it is required with __tableServiceUri when __accountName is not set.',
    );
  parse('AzureWebJobsStorage__queueServiceUri', httpsUrl, queue, 'an https:// URL');
  const credential = present(env, 'AzureWebJobsStorage__credential');
  if (credential !== undefined && credential !== 'managedidentity') {
    throw new ConfigError(
      'AzureWebJobsStorage__credential',
      `Setting AzureWebJobsStorage__credential is invalid: expected "managedidentity".`,
    );
  }
  const clientId = present(env, 'AzureWebJobsStorage__clientId');
  if (clientId !== undefined) parse('AzureWebJobsStorage__clientId', guid, clientId, 'a GUID');
  return {
    kind: 'identity',
    tableServiceUri: stripSlash(table),
    queueServiceUri: stripSlash(queue),
    ...(clientId ? { clientId } : {}),
  };
}

/** What the chosen `PARTNER_CREDENTIAL` kind needs; a missing or malformed companion setting is named. */
function loadPartnerCredential(env: Env, kind: PartnerCredentialKind, audience: string): PartnerCredentialSettings {
  if (kind === 'certificate') {
    const certificateName = parse(
      'PARTNER_CERTIFICATE_NAME',
      secretName,
      present(env, 'PARTNER_CERTIFICATE_NAME'),
      'the name of the Key Vault certificate the partner app trusts (letters, digits, dashes), required by PARTNER_CREDENTIAL=certificate',
    );
    return { kind, certificateName };
  }
  if (kind === 'federated') {
    const clientId = parse(
      'PARTNER_FEDERATED_CLIENT_ID',
      guid,
      present(env, 'PARTNER_FEDERATED_CLIENT_ID'),
      'the client ID (GUID) of the user-assigned managed identity the partner app trusts, required by PARTNER_CREDENTIAL=federated',
    );
    return { kind, clientId: clientId.toLowerCase(), audience };
  }
  return { kind };
}

/** Parse and validate settings. Throws ConfigError naming the first bad setting. */
export function loadSettings(env: Env = process.env): Settings {
  const partnerClientId = parse(
    'PARTNER_CLIENT_ID',
    guid,
    present(env, 'PARTNER_CLIENT_ID'),
    'the application (client) ID GUID of the partner app',
  );
  const credentialKind = parse(
    'PARTNER_CREDENTIAL',
    z.enum(['secret', 'certificate', 'federated']),
    present(env, 'PARTNER_CREDENTIAL')?.toLowerCase() ?? 'secret',
    'one of secret, certificate, federated',
  );
  const keyVaultRaw = present(env, 'KEY_VAULT_URL');
  // Kept as given (when not blank): StaticSecretProvider normalises it like every credential value and logs when
  // that changed something (shared/domain/credentialValue.ts).
  const partnerClientSecret =
    present(env, 'PARTNER_CLIENT_SECRET') === undefined ? undefined : env.PARTNER_CLIENT_SECRET;
  if (credentialKind === 'secret' && keyVaultRaw === undefined && partnerClientSecret === undefined) {
    throw new ConfigError(
      'KEY_VAULT_URL',
      'Setting KEY_VAULT_URL is missing: set the URL of the Key Vault holding the partner app secret (or, for local development only, PARTNER_CLIENT_SECRET).',
    );
  }
  if (credentialKind === 'certificate' && keyVaultRaw === undefined) {
    throw new ConfigError(
      'KEY_VAULT_URL',
      'Setting KEY_VAULT_URL is missing: PARTNER_CREDENTIAL=certificate reads the certificate PARTNER_CERTIFICATE_NAME from that Key Vault.',
    );
  }
  const keyVaultUrl =
    keyVaultRaw === undefined
      ? undefined
      : stripSlash(
          parse('KEY_VAULT_URL', httpsUrl, keyVaultRaw, 'an https:// URL such as https://myvault.vault.azure.net'),
        );
  const subscriptionVaultRaw = present(env, 'SUBSCRIPTION_VAULT_URL');
  const subscriptionVaultUrl =
    subscriptionVaultRaw === undefined
      ? undefined
      : stripSlash(
          parse(
            'SUBSCRIPTION_VAULT_URL',
            httpsUrl,
            subscriptionVaultRaw,
            'the https:// URL of the Key Vault for webhook subscription secrets, such as https://myvault.vault.azure.net',
          ),
        );
  // The collector writes subscription secrets: its identity must never gain write access to the partner credential.
  if (
    subscriptionVaultUrl !== undefined &&
    keyVaultUrl !== undefined &&
    new URL(subscriptionVaultUrl).host.toLowerCase() === new URL(keyVaultUrl).host.toLowerCase()
  ) {
    throw new ConfigError(
      'SUBSCRIPTION_VAULT_URL',
      'Setting SUBSCRIPTION_VAULT_URL is invalid: it names the vault of the partner credential (KEY_VAULT_URL); subscription secrets need a vault of their own, so the collector never gets write access to the partner credential.',
    );
  }
  const partnerSecretName = parse(
    'PARTNER_SECRET_NAME',
    secretName,
    present(env, 'PARTNER_SECRET_NAME') ?? 'partner-client-secret',
    'a Key Vault secret name (letters, digits, dashes)',
  );
  const incidentSource = parse(
    'INCIDENT_SOURCE',
    z.enum(['graph', 'm365d', 'auto']),
    present(env, 'INCIDENT_SOURCE') ?? 'graph',
    '"graph", "m365d" or "auto"',
  );
  const cloud = parse(
    'CLOUD',
    z.enum(['public', 'gcc', 'gcchigh', 'dod']),
    present(env, 'CLOUD')?.toLowerCase() ?? 'public',
    'one of public, gcc, gcchigh, dod',
  );
  const defaults = CLOUD_ENDPOINTS[cloud];
  const authorityHost = stripSlash(
    parse(
      'AZURE_AUTHORITY_HOST',
      httpsUrl,
      present(env, 'AZURE_AUTHORITY_HOST') ?? defaults.authority,
      'an https:// URL',
    ),
  );
  const graphEndpoint = stripSlash(
    parse('GRAPH_ENDPOINT', httpsUrl, present(env, 'GRAPH_ENDPOINT') ?? defaults.graph, 'an https:// URL'),
  );
  const m365dEndpoint = stripSlash(
    parse('M365D_ENDPOINT', httpsUrl, present(env, 'M365D_ENDPOINT') ?? defaults.m365d, 'an https:// URL'),
  );
  const partnerCredential = loadPartnerCredential(env, credentialKind, TOKEN_EXCHANGE_AUDIENCE[cloud]);
  const partnerTenantRaw = present(env, 'PARTNER_TENANT_ID');
  const partnerTenantId =
    partnerTenantRaw === undefined
      ? undefined
      : parse('PARTNER_TENANT_ID', guid, partnerTenantRaw, "the partner's home tenant ID (a GUID)").toLowerCase();
  const storage = loadStorage(env);
  const collectSchedule = parse(
    'COLLECT_SCHEDULE',
    ncrontab,
    present(env, 'COLLECT_SCHEDULE') ?? '0 0 * * * *',
    'an NCRONTAB expression with six fields, e.g. "0 0 * * * *"',
  );
  const redirect = present(env, 'CONSENT_REDIRECT_URI');
  const consentRedirectUri =
    redirect === undefined
      ? undefined
      : parse('CONSENT_REDIRECT_URI', z.string().url(), redirect, 'an absolute URL of /api/consent/callback');
  const syncOverlapSeconds = parse(
    'SYNC_OVERLAP_SECONDS',
    intIn(0, 7 * 86400),
    present(env, 'SYNC_OVERLAP_SECONDS') ?? '600',
    'whole seconds between 0 and 604800',
  );
  const syncLagSeconds = parse(
    'SYNC_LAG_SECONDS',
    intIn(0, 86400),
    present(env, 'SYNC_LAG_SECONDS') ?? '300',
    'whole seconds between 0 and 86400',
  );
  const syncInitialLookbackDays = parse(
    'SYNC_INITIAL_LOOKBACK_DAYS',
    intIn(1, 3650),
    present(env, 'SYNC_INITIAL_LOOKBACK_DAYS') ?? '30',
    'whole days between 1 and 3650',
  );
  const reprobeHours = parse(
    'REPROBE_HOURS',
    intIn(1, 8760),
    present(env, 'REPROBE_HOURS') ?? '24',
    'whole hours between 1 and 8760',
  );
  const tenantConcurrency = parse(
    'TENANT_CONCURRENCY',
    intIn(1, 256),
    present(env, 'TENANT_CONCURRENCY') ?? String(DEFAULT_TENANT_CONCURRENCY),
    'a whole number between 1 and 256',
  );
  const staleAfterMinutes = parse(
    'STALE_AFTER_MINUTES',
    intIn(1, MAX_STALE_AFTER_MINUTES),
    present(env, 'STALE_AFTER_MINUTES') ?? String(DEFAULT_STALE_AFTER_MINUTES),
    `whole minutes between 1 and ${MAX_STALE_AFTER_MINUTES}`,
  );
  const deliveryTimeoutSeconds = parse(
    'DELIVERY_TIMEOUT_SECONDS',
    intIn(1, 300),
    present(env, 'DELIVERY_TIMEOUT_SECONDS') ?? String(DEFAULT_DELIVERY_TIMEOUT_SECONDS),
    'whole seconds between 1 and 300',
  );
  const deliveryRetrySchedule = Object.freeze(
    parseRetrySchedule(present(env, 'DELIVERY_RETRY_SCHEDULE') ?? DEFAULT_DELIVERY_RETRY_SCHEDULE),
  );
  const historyRetentionDays = parse(
    'HISTORY_RETENTION_DAYS',
    intIn(0, MAX_HISTORY_RETENTION_DAYS),
    present(env, 'HISTORY_RETENTION_DAYS') ?? '0',
    `whole days between 0 (keep forever) and ${MAX_HISTORY_RETENTION_DAYS}`,
  );
  const isMicrosoftAuthority = MICROSOFT_LOGIN_HOSTS.has(new URL(authorityHost).hostname);
  return Object.freeze({
    partnerClientId,
    ...(keyVaultUrl !== undefined ? { keyVaultUrl } : {}),
    partnerSecretName,
    ...(subscriptionVaultUrl !== undefined ? { subscriptionVaultUrl } : {}),
    ...(partnerClientSecret !== undefined ? { partnerClientSecret } : {}),
    partnerCredential,
    ...(partnerTenantId !== undefined ? { partnerTenantId } : {}),
    incidentSource,
    cloud,
    authorityHost,
    graphEndpoint,
    m365dEndpoint,
    storage,
    collectSchedule,
    ...(consentRedirectUri !== undefined ? { consentRedirectUri } : {}),
    syncOverlapSeconds,
    syncLagSeconds,
    syncInitialLookbackDays,
    reprobeHours,
    tenantConcurrency,
    staleAfterMinutes,
    deliveryTimeoutSeconds,
    deliveryRetrySchedule,
    historyRetentionDays,
    isMicrosoftAuthority,
  });
}

/** The source `INCIDENT_SOURCE` names for consent links and new tenants: Graph for `graph` and `auto`. */
export function primarySource(settings: Settings): SourceKind {
  return settings.incidentSource === 'm365d' ? 'm365d' : 'graph';
}

/** The token scope for a source: `{origin of its endpoint}/.default` (default: the primary source's). */
export function scopeFor(settings: Settings, source: SourceKind = primarySource(settings)): string {
  const endpoint = source === 'graph' ? settings.graphEndpoint : settings.m365dEndpoint;
  return `${new URL(endpoint).origin}/.default`;
}
