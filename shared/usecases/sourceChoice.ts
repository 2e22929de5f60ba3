/**
 * Which source a tenant is collected from (issue 14, design §3/§4/§7): the tenant's own `source` column, else
 * `INCIDENT_SOURCE`. With `auto`, a tenant is collected from Graph when its Graph token carries the Graph read role,
 * else from the legacy API while that still exists; the first time Graph is ready the tenant's `source` column is
 * set to `graph` (logged `tenant.source_switched`, visible in `tenants list`), so it never moves back.
 *
 * From 2027-02-01 (the injected clock, never the machine date) a tenant whose source is the legacy API is not
 * collected: a CollectorError with code `SOURCE_RETIRED` names the command that moves it.
 *
 * A switch keeps an incident's identity: both APIs identify an incident by the Defender portal's incident number
 * (legacy `incidentId` 552 ↔ `incidentUri` …/incidents/552; Graph `id` "2972395" ↔ `incidentWebUrl`
 * …/incidents/2972395 — Microsoft's documented samples in the team's reference notes; learn.microsoft.com
 * graph/api/resources/security-incident and defender-xdr/api-incident), stored as `incidentId` in decimal. How a
 * consumer reads the two shapes: README "Moving off the legacy API".
 */
import { ErrorCode } from '../domain/errorCodes.js';
import { CollectorError } from '../domain/errors.js';
import {
  LEGACY_RETIREMENT,
  legacyRetired,
  type Clock,
  type IncidentSource,
  type Logger,
  type SourceKind,
  type SourceRegistry,
  type SourceSetting,
  type TenantRecord,
  type TenantStore,
  type TokenProvider,
} from '../ports.js';

/** The code of a collection refused because the legacy API is retired (design §7). */
export const SOURCE_RETIRED = ErrorCode.SOURCE_RETIRED;

/**
 * What the source choice needs. `source`/`tokens` are the process's single source when no registry is given
 * (unit specs, older callers): then every tenant is collected from it, as before sources per tenant existed.
 */
export interface SourceChoiceDeps {
  readonly source: IncidentSource;
  readonly tokens: TokenProvider;
  readonly sources?: SourceRegistry;
  readonly tenants: TenantStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A source ready to use for one tenant, with the token provider for its scope and roles. */
export interface ChosenSource {
  readonly kind: SourceKind;
  readonly source: IncidentSource;
  readonly tokens: TokenProvider;
  /** The tenant as stored after the choice (its `source` column set when `auto` moved it to Graph). */
  readonly tenant: TenantRecord;
}

/** `INCIDENT_SOURCE` as this process sees it. */
export function defaultSetting(deps: Pick<SourceChoiceDeps, 'source' | 'sources'>): SourceSetting {
  return deps.sources?.defaultSetting ?? deps.source.kind;
}

/** The tenant's configured source: its own column, else `INCIDENT_SOURCE` (possibly `auto`). */
export function configuredSource(
  deps: Pick<SourceChoiceDeps, 'source' | 'sources'>,
  tenant: Pick<TenantRecord, 'source'>,
): SourceSetting {
  return tenant.source ?? defaultSetting(deps);
}

/** The source of this kind; without a registry only the process's single source exists. */
export function sourcePair(
  deps: Pick<SourceChoiceDeps, 'source' | 'tokens' | 'sources'>,
  kind: SourceKind,
): { source: IncidentSource; tokens: TokenProvider } {
  if (deps.sources) return deps.sources.sourceFor(kind);
  if (deps.source.kind !== kind)
    throw new CollectorError(`Source ${kind} is not available in this process (only ${deps.source.kind}).`, {
      code: ErrorCode.SOURCE_UNAVAILABLE,
      kind: 'permanent',
    });
  return { source: deps.source, tokens: deps.tokens };
}

/** The error of a tenant still on the legacy API on or after 2027-02-01; the message names the fixing command. */
export function sourceRetiredError(tenantId: string): CollectorError {
  return new CollectorError(
    `The legacy incidents API stopped on ${LEGACY_RETIREMENT.slice(0, 10)}; tenant ${tenantId} is still on it. ` +
      `Move it to Microsoft Graph: "incident-collector tenants set-source ${tenantId} graph" ` +
      `(its admin must first consent to SecurityIncident.Read.All: "incident-collector consent-link --tenant ${tenantId}"; ` +
      `"incident-collector sources check --tenant ${tenantId}" shows whether it is ready).`,
    { code: SOURCE_RETIRED, kind: 'permanent' },
  );
}

/**
 * Choose the tenant's source for this collection and prove its token (tid and roles checked): the token call is
 * the one design §6.2 makes before anything is fetched. Throws the token's CollectorError, or SOURCE_RETIRED.
 */
export async function chooseSource(
  deps: SourceChoiceDeps,
  tenant: TenantRecord,
  context: { runId?: string; signal?: AbortSignal } = {},
): Promise<ChosenSource> {
  const options = context.signal ? { signal: context.signal } : undefined;
  const configured = configuredSource(deps, tenant);
  if (configured !== 'auto') {
    if (configured === 'm365d' && legacyRetired(deps.clock.now())) throw sourceRetiredError(tenant.tenantId);
    const pair = sourcePair(deps, configured);
    await pair.tokens.getToken(tenant.tenantId, options);
    return { kind: configured, ...pair, tenant };
  }
  const graph = sourcePair(deps, 'graph');
  try {
    await graph.tokens.getToken(tenant.tenantId, options);
  } catch (error) {
    // Only a missing Graph role means "not consented to Graph yet"; anything else (consent revoked, transient) is
    // the tenant's real failure and the legacy API would not help.
    if (!(error instanceof CollectorError) || error.kind !== 'missing_permissions') throw error;
    if (legacyRetired(deps.clock.now())) throw sourceRetiredError(tenant.tenantId);
    const legacy = sourcePair(deps, 'm365d');
    await legacy.tokens.getToken(tenant.tenantId, options);
    return { kind: 'm365d', ...legacy, tenant };
  }
  // Graph is ready: pin the tenant to Graph (visible in `tenants list`, never back to the legacy API).
  const moved = await deps.tenants.update(tenant.tenantId, { source: 'graph' });
  deps.logger.info('tenant.source_switched', {
    ...(context.runId !== undefined ? { runId: context.runId } : {}),
    tenantId: tenant.tenantId,
    from: 'auto',
    to: 'graph',
    checkpoint: tenant.checkpoint ?? null,
  });
  return { kind: 'graph', ...graph, tenant: moved };
}
