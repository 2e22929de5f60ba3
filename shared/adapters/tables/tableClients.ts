/**
 * The one place that builds @azure/data-tables clients: from a connection string (Azurite or an account key) or
 * identity-based (managed identity / DefaultAzureCredential). Clients are built lazily on first use, and the
 * tables are created once per TableClients instance (the composition root keeps one per process).
 */
import { TableClient, type TableServiceClientOptions } from '@azure/data-tables';
import { DefaultAzureCredential, ManagedIdentityCredential } from '@azure/identity';
import type { TokenCredential } from '@azure/identity';
import type { StorageSettings } from '../../config/settings.js';
import type { Logger } from '../../ports.js';
import { keepAliveAgentFor } from './keepAliveAgent.js';
import { socketRetryPolicy } from './socketRetryPolicy.js';
import { hasStatus, toTableError } from './tableErrors.js';

/** Contract tables (design §4) and our own. */
export const TABLE_NAMES = {
  tenants: 'Tenants',
  incidents: 'Incidents',
  history: 'IncidentHistory',
  runs: 'Runs',
  chunks: 'PayloadChunks',
  leases: 'Leases',
  consentStates: 'ConsentStates',
  /** Quarantine of incident records a source could not accept (issue 10 §3). */
  rejected: 'RejectedIncidents',
  /** Where incident events go (design §9). */
  subscriptions: 'Subscriptions',
  /** Per subscription: cursors per tenant, incidents awaiting a retry, dead letters (delivery engine). */
  deliveryState: 'DeliveryState',
  /** Webhook subscription secrets, only when no SUBSCRIPTION_VAULT_URL is set (local development). */
  subscriptionSecrets: 'SubscriptionSecrets',
} as const;

export type TableRole = keyof typeof TABLE_NAMES;

export type AdditionalPolicies = NonNullable<TableServiceClientOptions['additionalPolicies']>;

export interface TableClientsOptions {
  /** Extra pipeline policies on every client (tests count requests and inspect `$batch` bodies with these). */
  readonly additionalPolicies?: AdditionalPolicies;
  readonly logger?: Logger;
  /** Identity-based only: use this credential instead of the managed identity / DefaultAzureCredential. */
  readonly credential?: TokenCredential;
}

export interface TableClients {
  client(role: TableRole): TableClient;
  /** Create every table if missing (idempotent, once per instance; retried after a failure). */
  ensureTables(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Plain HTTP is only ever allowed to a loopback emulator. */
export function isLoopbackHttp(endpoint: string): boolean {
  try {
    const url = new URL(endpoint);
    return url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  } catch {
    return false;
  }
}

/** The table endpoint a connection string points at (for the insecure-connection decision only). */
export function tableEndpointOf(connectionString: string): string | undefined {
  const parts = new Map<string, string>();
  for (const segment of connectionString.split(';')) {
    const at = segment.indexOf('=');
    if (at > 0) parts.set(segment.slice(0, at).trim().toLowerCase(), segment.slice(at + 1).trim());
  }
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return 'http://127.0.0.1:10002/devstoreaccount1';
  const explicit = parts.get('tableendpoint');
  if (explicit) return explicit;
  const account = parts.get('accountname');
  if (!account) return undefined;
  return `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.table.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
}

const RETRY_OPTIONS = { maxRetries: 3, retryDelayInMs: 300, maxRetryDelayInMs: 3000 };

export function createTableClients(storage: StorageSettings, options: TableClientsOptions = {}): TableClients {
  const clients = new Map<TableRole, TableClient>();
  let credential: TokenCredential | undefined = options.credential;
  let ensured: Promise<void> | undefined;
  // One pool for every table client of this instance, never reusing a connection the service may have closed for
  // idleness (keepAliveAgent.ts: the cause of `write EPIPE` on large `$batch` bodies under load).
  let agent: ReturnType<typeof keepAliveAgentFor> | undefined;

  const baseOptions = (endpoint: string | undefined): TableServiceClientOptions => ({
    retryOptions: RETRY_OPTIONS,
    agent: (agent ??= keepAliveAgentFor(endpoint)),
    additionalPolicies: [{ policy: socketRetryPolicy(), position: 'perRetry' }, ...(options.additionalPolicies ?? [])],
    ...(endpoint !== undefined && isLoopbackHttp(endpoint) ? { allowInsecureConnection: true } : {}),
  });

  const build = (role: TableRole): TableClient => {
    const table = TABLE_NAMES[role];
    if (storage.kind === 'connectionString') {
      return TableClient.fromConnectionString(
        storage.connectionString,
        table,
        baseOptions(tableEndpointOf(storage.connectionString)),
      );
    }
    credential ??= storage.clientId
      ? new ManagedIdentityCredential({ clientId: storage.clientId })
      : new DefaultAzureCredential();
    return new TableClient(storage.tableServiceUri, table, credential, baseOptions(storage.tableServiceUri));
  };

  const client = (role: TableRole): TableClient => {
    let existing = clients.get(role);
    if (!existing) {
      existing = build(role);
      clients.set(role, existing);
    }
    return existing;
  };

  const createAll = async (): Promise<void> => {
    await Promise.all(
      (Object.keys(TABLE_NAMES) as TableRole[]).map(async (role) => {
        try {
          // createTable already tolerates TableAlreadyExists; the 409 check covers emulators that answer differently.
          await client(role).createTable();
        } catch (error) {
          if (!hasStatus(error, 409)) throw toTableError(error, `create table ${TABLE_NAMES[role]}`);
        }
      }),
    );
    options.logger?.info('tables.ensured', { tableCount: Object.keys(TABLE_NAMES).length });
  };

  return {
    client,
    ensureTables: () => {
      ensured ??= createAll().catch((error: unknown) => {
        ensured = undefined;
        throw error;
      });
      return ensured;
    },
  };
}
