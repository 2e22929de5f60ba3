/**
 * `incident-collector sources check` (issue 14): how ready each tenant is to leave the retiring legacy API.
 *
 * Per tenant and per source: one token (tid and roles checked) and one `$top=1` call — nothing is collected and no
 * incident, checkpoint or tenant column is written. A tenant that still needs Graph consent gets a fresh consent link
 * bound to its tenant ID (a `ConsentStates` row, 24 h like any link). The legacy API is not probed from 2027-02-01.
 */
import { ErrorCode } from '../domain/errorCodes.js';
import { mapBounded } from '../lib/bounded.js';
import {
  LEGACY_RETIREMENT,
  legacyRetired,
  type Clock,
  type Logger,
  type SourceKind,
  type SourceRegistry,
  type SourceSetting,
  type TenantRecord,
  type TenantStore,
} from '../ports.js';
import { toFailure } from './collectTenant.js';
import { createConsentLink, storedNameForLink, type ConsentLinkDeps } from './consent.js';
import { selectTenants } from './runCollection.js';

export interface SourcesCheckDeps {
  readonly tenants: TenantStore;
  readonly sources: SourceRegistry;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly concurrency: number;
  /** Consent links for the Graph scope (design §8); absent (or no redirect URI) → links are not offered. */
  readonly consentLink?: ConsentLinkDeps;
}

/** One source's answer for one tenant: `ready`, or why not (the failure's code and redacted message). */
export interface SourceProbe {
  readonly ready: boolean;
  readonly code: string | null;
  readonly message: string | null;
}

/**
 * What to do next for a tenant:
 * - `none`: it collects from Graph (or `auto` will move it by itself at its next run);
 * - `set_source_graph`: Graph is ready but the tenant is pinned to (or defaults to) the legacy API;
 * - `send_consent_link`: Graph lacks consent or the role; the admin must consent (link included);
 * - `investigate`: neither source answers for a reason consent does not explain (see the probes' codes).
 */
export type SourceAction = 'none' | 'set_source_graph' | 'send_consent_link' | 'investigate';

/** One tenant's line of `sources check --json` (documented in the README). */
export interface SourceReadiness {
  readonly tenantId: string;
  readonly displayName: string;
  readonly status: string;
  /** The tenant's own `source` column, or null (INCIDENT_SOURCE decides). */
  readonly sourceColumn: SourceKind | null;
  /** The tenant's configured source: its column, else INCIDENT_SOURCE (`auto` possible). */
  readonly source: SourceSetting;
  /** Where the next collection would read from (`auto` resolved), or null when it cannot collect. */
  readonly collectsFrom: SourceKind | null;
  readonly graph: SourceProbe;
  readonly legacy: SourceProbe;
  readonly action: SourceAction;
  /** The action in words, naming the command that does it. */
  readonly actionText: string;
  /** A fresh, tenant-bound admin-consent link for the Graph permission, when the action is `send_consent_link`. */
  readonly consentLink: { readonly url: string; readonly expiresAt: string } | null;
}

export interface SourcesCheckReport {
  readonly checkedAt: string;
  /** INCIDENT_SOURCE. */
  readonly defaultSource: SourceSetting;
  /** The instant the legacy API stops (2027-02-01T00:00:00.000Z) and whether it already has, by the clock. */
  readonly legacyRetiresAt: string;
  readonly legacyRetired: boolean;
  readonly tenants: SourceReadiness[];
}

const CONSENT_CODES = new Set(['AADSTS65001', 'AADSTS700016', 'AADSTS7000229', 'AADSTS500011']);

async function probe(deps: SourcesCheckDeps, kind: SourceKind, tenantId: string): Promise<SourceProbe> {
  const { source, tokens } = deps.sources.sourceFor(kind);
  try {
    await tokens.getToken(tenantId);
    await source.probe(tenantId);
    return { ready: true, code: null, message: null };
  } catch (error) {
    const failure = toFailure(error);
    return { ready: false, code: failure.code, message: failure.message };
  }
}

function needsConsent(p: SourceProbe): boolean {
  if (p.ready || p.code === null) return false;
  return p.code === ErrorCode.MISSING_ROLE || p.code === 'HTTP_403' || CONSENT_CODES.has(p.code);
}

async function checkOne(deps: SourcesCheckDeps, tenant: TenantRecord, retired: boolean): Promise<SourceReadiness> {
  const id = tenant.tenantId;
  const graph = await probe(deps, 'graph', id);
  const legacy: SourceProbe = retired
    ? { ready: false, code: ErrorCode.SOURCE_RETIRED, message: 'The legacy incidents API stopped on 2027-02-01.' }
    : await probe(deps, 'm365d', id);
  const source = tenant.source ?? deps.sources.defaultSetting;
  const collectsFrom: SourceKind | null =
    source === 'auto' ? (graph.ready ? 'graph' : legacy.ready ? 'm365d' : null) : source;
  let action: SourceAction;
  let actionText: string;
  if (graph.ready && collectsFrom === 'graph') {
    action = 'none';
    actionText =
      source === 'auto' && tenant.source === undefined
        ? 'None: INCIDENT_SOURCE=auto moves it to Graph at its next collection.'
        : 'None: it collects from Microsoft Graph.';
  } else if (graph.ready) {
    action = 'set_source_graph';
    actionText = `Move it to Graph: incident-collector tenants set-source ${id} graph`;
  } else if (needsConsent(graph)) {
    action = 'send_consent_link';
    actionText = `Send the consent link to the tenant's admin (Graph permission SecurityIncident.Read.All), then run: incident-collector sources check --tenant ${id}`;
  } else {
    action = 'investigate';
    actionText = `Graph answered ${graph.code ?? 'an error'}: see the message; retry with incident-collector sources check --tenant ${id}`;
  }
  let consentLink: SourceReadiness['consentLink'] = null;
  if (action === 'send_consent_link' && deps.consentLink?.redirectUri) {
    // The text asks for Graph consent: the link carries the Graph scope even with INCIDENT_SOURCE=m365d, and the
    // callback verifies Graph.
    const link = await createConsentLink(deps.consentLink, {
      tenant: id,
      // A name stored before display names were checked (control characters) is left off the link, not fatal.
      ...(storedNameForLink(tenant.displayName) !== undefined ? { name: tenant.displayName } : {}),
      source: { kind: 'graph', scope: deps.sources.sourceFor('graph').source.scope },
    });
    consentLink = { url: link.url, expiresAt: link.expiresAt };
  }
  return {
    tenantId: id,
    displayName: tenant.displayName,
    status: tenant.status,
    sourceColumn: tenant.source ?? null,
    source,
    collectsFrom,
    graph,
    legacy,
    action,
    actionText,
    consentLink,
  };
}

/** Check the requested tenants (all when none is named; an unknown one is a NotFoundError). */
export async function checkSources(
  deps: SourcesCheckDeps,
  request: { tenantIds?: readonly string[] } = {},
): Promise<SourcesCheckReport> {
  const now = deps.clock.now();
  const retired = legacyRetired(now);
  const tenants = selectTenants(await deps.tenants.list(), request.tenantIds);
  const results = await mapBounded(tenants, deps.concurrency, (t) => checkOne(deps, t, retired));
  deps.logger.info('sources.checked', {
    tenantCount: results.length,
    graphReady: results.filter((r) => r.graph.ready).length,
    onLegacy: results.filter((r) => r.collectsFrom === 'm365d').length,
  });
  return {
    checkedAt: now.toISOString(),
    defaultSource: deps.sources.defaultSetting,
    legacyRetiresAt: LEGACY_RETIREMENT,
    legacyRetired: retired,
    tenants: results,
  };
}
