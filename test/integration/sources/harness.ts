/**
 * Builds the real adapters (Key Vault secret provider, Entra token provider, got client, limiter, sources)
 * against a running simulator stack, the way the composition root does, with short backoffs for tests.
 */
import type { TokenCredential } from '@azure/identity';
import { createIncidentHttp, type IncidentHttp } from '../../../shared/adapters/http.js';
import { GraphIncidentSource, GRAPH_READ_ROLES } from '../../../shared/adapters/graphSource.js';
import { M365dIncidentSource, M365D_READ_ROLES } from '../../../shared/adapters/m365dSource.js';
import { RateLimiter, type LimiterClock, type QuotaWindow } from '../../../shared/adapters/rateLimiter.js';
import { KeyVaultSecretProvider, createAzureCredential } from '../../../shared/adapters/secretProvider.js';
import { EntraTokenProvider } from '../../../shared/adapters/tokenProvider.js';
import { loadSettings, type Settings } from '../../../shared/config/settings.js';
import type { IncidentPage, IncidentSource, Logger, SyncWindow } from '../../../shared/ports.js';
import type { LocalStack } from '../../../devstack/stack.js';

export interface Adapters {
  readonly settings: Settings;
  readonly credential: TokenCredential;
  readonly secrets: KeyVaultSecretProvider;
  readonly tokens: EntraTokenProvider;
  readonly http: IncidentHttp;
  readonly limiter?: RateLimiter;
  readonly source: IncidentSource;
  readonly warnings: { event: string; fields?: Record<string, unknown> }[];
}

export interface AdapterOptions {
  readonly source: 'graph' | 'm365d';
  /**
   * Quota windows the limiter keeps under, already scaled to the stack's time (devstack's scaleQuotas or
   * scaledSourceQuotas with the stack's timeScale); undefined = no limiter.
   */
  readonly limiterQuotas?: readonly QuotaWindow[];
  readonly expandAlerts?: boolean;
  /** The limiter's clock (default: real time); give the stack the same one as `quotaClock` (see `steppingClock`). */
  readonly limiterClock?: LimiterClock;
}

/**
 * A virtual clock that moves only when the limiter waits: each scheduled wait runs on the next turn of the event
 * loop with the clock set to its due time (earliest first). Shared by the limiter and the simulators' quotas
 * (StackOptions.quotaClock), a request counts on both sides at the same instant, so pacing is decided by event
 * order and not by how fast a busy machine delivers the request. Meant for one sequential pager at a time.
 * `start`: the first reading, epoch ms.
 */
export function steppingClock(start = 1_000_000): LimiterClock {
  let now = start;
  let timers: { at: number; fn: () => void }[] = [];
  const fireNext = () => {
    const next = timers.reduce<(typeof timers)[number] | undefined>((a, t) => (a && a.at <= t.at ? a : t), undefined);
    if (!next) return;
    timers = timers.filter((t) => t !== next);
    now = Math.max(now, next.at);
    next.fn();
  };
  return {
    now: () => now,
    schedule(fn, ms) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      setImmediate(fireNext);
      return () => {
        timers = timers.filter((t) => t !== timer);
      };
    },
  };
}

/** Settings from the stack's env; the storage setting is a placeholder (these tests need no storage). */
export function settingsOf(stack: LocalStack): Settings {
  return loadSettings({ AzureWebJobsStorage: 'UseDevelopmentStorage=true', ...stack.env });
}

/**
 * DefaultAzureCredential reads AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET from process.env: set them from the
 * stack for the test file and give back a function that restores the previous values.
 */
export function useStackIdentity(stack: LocalStack): () => void {
  const keys = ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  for (const k of keys) if (stack.env[k] !== undefined) process.env[k] = stack.env[k];
  return () => {
    for (const k of keys) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  };
}

export function buildAdapters(stack: LocalStack, options: AdapterOptions): Adapters {
  const settings = settingsOf(stack);
  const warnings: Adapters['warnings'] = [];
  const logger: Logger = {
    info: () => {},
    warn: (event, fields) => warnings.push({ event, ...(fields ? { fields } : {}) }),
    error: () => {},
  };
  const credential = createAzureCredential(settings);
  if (!settings.keyVaultUrl) throw new Error('the stack should configure KEY_VAULT_URL');
  const secrets = new KeyVaultSecretProvider({
    vaultUrl: settings.keyVaultUrl,
    secretName: settings.partnerSecretName,
    credential,
  });
  const endpoint = options.source === 'graph' ? settings.graphEndpoint : settings.m365dEndpoint;
  const tokens = new EntraTokenProvider({
    authorityHost: settings.authorityHost,
    clientId: settings.partnerClientId,
    secretProvider: secrets,
    scope: `${new URL(endpoint).origin}/.default`,
    readRoles: options.source === 'graph' ? GRAPH_READ_ROLES : M365D_READ_ROLES,
    disableInstanceDiscovery: !settings.isMicrosoftAuthority,
  });
  const http = createIncidentHttp({ backoff: { baseMs: 20, capMs: 200 }, logger });
  const limiter =
    options.limiterQuotas === undefined
      ? undefined
      : new RateLimiter({
          quotas: options.limiterQuotas,
          ...(options.limiterClock ? { clock: options.limiterClock } : {}),
        });
  const common = { endpoint, tokenProvider: tokens, http, logger, ...(limiter ? { limiter } : {}) };
  const source =
    options.source === 'graph'
      ? new GraphIncidentSource({
          ...common,
          ...(options.expandAlerts !== undefined ? { expandAlerts: options.expandAlerts } : {}),
        })
      : new M365dIncidentSource(common);
  return { settings, credential, secrets, tokens, http, ...(limiter ? { limiter } : {}), source, warnings };
}

/** A window covering every seeded incident (and nothing after `to`). */
export function wideWindow(to = new Date()): SyncWindow {
  return { from: '2000-01-01T00:00:00.0000000Z', to: `${to.toISOString().slice(0, 23)}0000Z` };
}

export async function collectPages(pages: AsyncIterable<IncidentPage>): Promise<IncidentPage[]> {
  const all: IncidentPage[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

/** The last version seen of each incident, by id. */
export function byId(pages: readonly IncidentPage[]): Map<string, Record<string, unknown>> {
  const map = new Map<string, Record<string, unknown>>();
  for (const page of pages) for (const i of page.incidents) map.set(i.incidentId, i.incident);
  return map;
}

export function truthById(
  incidents: Record<string, unknown>[],
  idKey: 'id' | 'incidentId',
): Map<string, Record<string, unknown>> {
  return new Map(incidents.map((i) => [String(i[idKey]), i]));
}
