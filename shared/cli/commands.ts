/**
 * The CLI's actions: each resolves services, calls one use case and maps the result to output and an exit code.
 */
import { CollectorError, ConfigError, InputError, NotFoundError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';
import { parseDisplayName } from '../domain/inputLimits.js';
import { isTenantId, parseTenantId } from '../domain/tenantId.js';
import { requireTimestamp } from '../domain/time.js';
import type { Services } from '../composition.js';
import type { TenantRunResult } from '../ports.js';
import { readFile } from 'node:fs/promises';
import { createConsentLink, parseValidDays } from '../usecases/consent.js';
import { checkCredentials, type CredentialsCheckResult } from '../usecases/credentialsCheck.js';
import {
  issueLinks,
  linksCsv,
  parseOnboardingCsv,
  renewExpiredLinks,
  type OnboardingRow,
} from '../usecases/onboarding.js';
import { exportIncidents } from '../usecases/exportIncidents.js';
import { pruneHistory, type PruneReport } from '../usecases/retention.js';
import { runCollection, type RunSummary } from '../usecases/runCollection.js';
import {
  addTenant,
  disableTenant,
  enableTenant,
  parseStatuses,
  removeTenant,
  setTenantSource,
  tenantView,
  type VerifyOutcome,
} from '../usecases/tenants.js';
import { checkSources, type SourcesCheckReport } from '../usecases/sourcesCheck.js';
import { readHealth, type HealthReport } from '../usecases/health.js';
import { adviseTenants, type TenantAdvice } from '../usecases/tenantAdvice.js';
import { SOURCE_RETIRED } from '../usecases/sourceChoice.js';
import { Progress, type Io } from './io.js';
import { createSubscriptionHandlers, deliverAfterCollect } from './subscriptionCommands.js';
import type { CommandHandlers } from './program.js';

export const EXIT_OK = 0;
export const EXIT_TENANT_FAILED = 1;
export const EXIT_USAGE = 2;

function requireSince(value: string | undefined): string | undefined {
  return value === undefined ? undefined : requireTimestamp(value, '--since');
}

function pad(text: string, width: number): string {
  return text.length >= width ? text : text + ' '.repeat(width - text.length);
}

/** A plain-text table (no colours: output is often piped into tickets). */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => pad(c, widths[i] ?? 0))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function summaryTable(summary: RunSummary, names: ReadonlyMap<string, string>): string {
  const rows = [['TENANT', 'NAME', 'STATUS', 'FETCHED', 'CHANGED', 'PAGES', 'ERROR']];
  for (const t of summary.tenants) {
    rows.push([
      t.tenantId,
      names.get(t.tenantId) ?? '',
      t.status,
      String(t.incidentsFetched),
      String(t.incidentsChanged),
      String(t.pages),
      t.error ? `${t.error.code}: ${t.error.message}`.slice(0, 120) : '',
    ]);
  }
  return table(rows);
}

/** `credentials check` without --json: one `FIELD  value` line each. */
export function credentialsText(r: CredentialsCheckResult): string {
  const proof =
    r.proof.status === 'failed' && r.proof.error
      ? `failed (${r.proof.error.code}: ${r.proof.error.message})`
      : r.proof.status === 'ok'
        ? `ok (token issued in ${r.proof.tenantId})`
        : 'skipped (PARTNER_TENANT_ID not set)';
  return table([
    ['KIND', r.kind ?? '-'],
    ['NAME', r.name ?? '-'],
    ['VERSION', r.version ?? '-'],
    ['EXPIRES', r.expiresOn ?? 'unknown'],
    ['DAYS LEFT', r.daysLeft === null ? '-' : String(r.daysLeft)],
    ['PROOF', proof],
  ]);
}

/** `sources check` as text: one line per tenant, then each pending consent link on its own line. */
export function sourcesTable(report: SourcesCheckReport): string {
  const yes = (p: { ready: boolean; code: string | null }) => (p.ready ? 'ready' : `no (${p.code ?? '?'})`);
  const rows = [['TENANT', 'NAME', 'SOURCE', 'COLLECTS FROM', 'GRAPH', 'LEGACY', 'ACTION']];
  for (const t of report.tenants)
    rows.push([t.tenantId, t.displayName, t.source, t.collectsFrom ?? '-', yes(t.graph), yes(t.legacy), t.actionText]);
  const links = report.tenants
    .filter((t) => t.consentLink !== null)
    .map((t) => `Consent link for ${t.tenantId} (valid until ${t.consentLink?.expiresAt}):\n${t.consentLink?.url}\n`);
  return table(rows) + (links.length ? `\n${links.join('')}` : '');
}

/** `status` without --json: the health headline and problems, then one block per tenant that needs action. */
export function statusText(report: HealthReport, needsAction: readonly TenantAdvice[]): string {
  const lines = [`Health: ${report.status} (checked ${report.checkedAt})`];
  const r = report.lastRun;
  lines.push(
    r
      ? `Last run: ${r.runId} finished ${r.finishedAt}: ${r.ok} ok, ${r.failed} failed, ${r.skipped} skipped`
      : 'Last run: none finished',
  );
  lines.push(
    `Coverage: ${report.coverage === null ? 'no collectable tenant' : `${(Math.floor(report.coverage * 1000) / 10).toFixed(1)} % of collectable tenants collected in time`}`,
  );
  const counts = Object.entries(report.tenants)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([status, n]) => `${n} ${status}`);
  lines.push(`Tenants: ${counts.length ? counts.join(', ') : 'none'}`);
  if (report.problems.length) {
    lines.push('', 'Problems:');
    for (const p of report.problems) lines.push(`  ${p.code}: ${p.message}`);
  }
  lines.push('', needsAction.length ? `Tenants that need action (${needsAction.length}):` : 'No tenant needs action.');
  for (const a of needsAction) {
    lines.push(
      '',
      `${a.tenantId} (${a.displayName}): ${a.status}${a.since ? ` since ${a.since}` : ''}`,
      `  ${a.problem}`,
      `  Fix: ${a.fix}`,
      ...a.commands.map((c) => `  $ ${c}`),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `history prune` without --json: one `FIELD  value` line each. */
export function pruneText(r: PruneReport): string {
  const verb = r.dryRun ? 'WOULD REMOVE' : 'REMOVED';
  return table([
    ['CUTOFF', r.cutoff ?? 'none (HISTORY_RETENTION_DAYS=0)'],
    ['TENANTS', String(r.tenants)],
    [`VERSIONS ${verb}`, String(r.versionsRemoved)],
    [`EVENTS ${verb}`, String(r.eventsRemoved)],
    [`CHUNKS ${verb}`, String(r.chunksRemoved)],
    [
      'KEPT (OLD)',
      `${r.kept.latest} latest, ${r.kept.undelivered} undelivered, ${r.kept.previous} previous, ${r.kept.recent} recent`,
    ],
    ['FAILED TENANTS', String(r.failed.length)],
  ]);
}

export function exitCodeOf(results: readonly TenantRunResult[]): number {
  return results.some((r) => r.status === 'failed') ? EXIT_TENANT_FAILED : EXIT_OK;
}

/** `tenants add/enable/disable/set-source --json`: `{ tenant, error }` (tenant as in `tenants list --json`). */
function tenantJson(outcome: Pick<VerifyOutcome, 'tenant'> & { failure?: VerifyOutcome['failure'] }): string {
  const error = outcome.failure ? { code: outcome.failure.code, message: outcome.failure.message } : null;
  return `${JSON.stringify({ tenant: tenantView(outcome.tenant), error })}\n`;
}

function verifyMessage(outcome: VerifyOutcome): string {
  const t = outcome.tenant;
  return outcome.failure
    ? `Tenant ${t.tenantId} stored as ${t.status}: ${outcome.failure.code}: ${outcome.failure.message}\n`
    : `Tenant ${t.tenantId} (${t.displayName}) is ${t.status}.\n`;
}

/** The `collect --json` contract: error is `{ code, message }`; the failure kind stays internal. */
function publicSummary(summary: RunSummary): RunSummary {
  return {
    ...summary,
    tenants: summary.tenants.map((t) =>
      t.error ? { ...t, error: { code: t.error.code, message: t.error.message } } : t,
    ),
  };
}

export function createHandlers(
  services: () => Promise<Services>,
  io: Io,
  demo: CommandHandlers['demo'],
): CommandHandlers {
  return {
    ...createSubscriptionHandlers(services, io),
    async collect(opts) {
      const since = requireSince(opts.since);
      const tenantIds = opts.tenant.map((t) => parseTenantId(t, '--tenant'));
      const s = await services();
      const all = await s.tenants.list();
      if (all.length === 0 && tenantIds.length === 0) {
        io.err(
          'No tenants registered: add one with "incident-collector tenants add <tenantId>" or send a consent link ("incident-collector consent-link").\n',
        );
        if (opts.json) {
          const now = s.clock.now().toISOString();
          await io.out(`${JSON.stringify({ runId: null, startedAt: now, finishedAt: now, tenants: [] })}\n`);
        }
        return EXIT_OK;
      }
      let done = 0;
      const summary = await runCollection(s.runDeps(), {
        ...(tenantIds.length ? { tenantIds } : {}),
        ...(since ? { since } : {}),
        trigger: 'cli',
        ...(io.interactive
          ? { onTenantDone: (_r: TenantRunResult, total: number) => io.err(`\rcollected ${++done}/${total} tenants`) }
          : {}),
      });
      if (io.interactive) io.err('\n');
      const names = new Map(all.map((t) => [t.tenantId, t.displayName]));
      if (opts.json) await io.out(`${JSON.stringify(publicSummary(summary))}\n`);
      else await io.out(summaryTable(summary, names));
      if (summary.tenants.length > 0 && summary.tenants.every((t) => t.status === 'skipped')) {
        io.err(
          'Every tenant was skipped (disabled, awaiting consent, or not due for a re-probe): see "incident-collector tenants list".\n',
        );
      }
      // One delivery pass for what this run wrote (design §9); it never changes collect's exit code or results.
      if (opts.deliver !== false) await deliverAfterCollect(s, io);
      return exitCodeOf(summary.tenants);
    },

    async tenantsList(opts) {
      const statuses = parseStatuses(opts.status);
      const s = await services();
      const tenants = (await s.tenants.list())
        .filter((t) => statuses.size === 0 || statuses.has(t.status))
        .map(tenantView);
      if (opts.json) {
        await io.out(`${JSON.stringify(tenants)}\n`);
      } else if (tenants.length === 0) {
        io.err(statuses.size > 0 ? 'No tenant has that status.\n' : 'No tenants registered.\n');
      } else {
        const rows = [
          ['TENANT', 'NAME', 'STATUS', 'SOURCE', 'CHECKPOINT', 'LAST SUCCESS', 'FAILURES', 'REJECTED', 'LAST ERROR'],
        ];
        for (const t of tenants) {
          rows.push([
            String(t.tenantId),
            String(t.displayName),
            String(t.status),
            String(t.source ?? `default (${s.settings.incidentSource})`),
            String(t.checkpoint ?? ''),
            String(t.lastSuccessAt ?? ''),
            String(t.consecutiveFailures),
            String(t.incidentsRejected),
            String(t.lastErrorCode ?? ''),
          ]);
        }
        await io.out(table(rows));
      }
      return EXIT_OK;
    },

    async tenantsSetSource(tenantId, source, opts) {
      parseTenantId(tenantId);
      const s = await services();
      let t;
      try {
        t = await setTenantSource(s.tenantDeps(), tenantId, source);
      } catch (error) {
        // A refused move (the legacy API is retired) is the caller's request, not a tenant failure: exit 2.
        if (error instanceof CollectorError && error.code === SOURCE_RETIRED) {
          io.err(`${SOURCE_RETIRED}: ${error.message}\n`);
          return EXIT_USAGE;
        }
        throw error;
      }
      if (opts.json) await io.out(tenantJson({ tenant: t }));
      io.err(
        `Tenant ${t.tenantId} now collects from ${t.source ?? `the default source (INCIDENT_SOURCE=${s.settings.incidentSource})`}; its checkpoint is kept.\n`,
      );
      return EXIT_OK;
    },

    async sourcesCheck(opts) {
      const tenantIds = opts.tenant.map((t) => parseTenantId(t, '--tenant'));
      const s = await services();
      const report = await checkSources(
        {
          tenants: s.tenants,
          sources: s.sources,
          clock: s.clock,
          logger: s.logger,
          concurrency: s.settings.tenantConcurrency,
          ...(s.settings.consentRedirectUri ? { consentLink: s.consentLinkDeps() } : {}),
        },
        tenantIds.length ? { tenantIds } : {},
      );
      if (opts.json) await io.out(`${JSON.stringify(report)}\n`);
      else if (report.tenants.length === 0) io.err('No tenants registered.\n');
      else await io.out(sourcesTable(report));
      return report.tenants.some((t) => t.action !== 'none') ? EXIT_TENANT_FAILED : EXIT_OK;
    },

    async tenantsAdd(tenantId, opts) {
      // Checked before the services start (table creation is already an outside call); the use case checks again.
      parseTenantId(tenantId);
      parseDisplayName(opts.name, '--name');
      const s = await services();
      const outcome = await addTenant(s.tenantDeps(), {
        tenantId,
        ...(opts.name !== undefined ? { displayName: opts.name } : {}),
        verify: opts.verify,
      });
      if (opts.json) await io.out(tenantJson(outcome));
      io.err(verifyMessage(outcome));
      return outcome.failure ? EXIT_TENANT_FAILED : EXIT_OK;
    },

    async tenantsSetEnabled(tenantId, enabled, opts) {
      parseTenantId(tenantId);
      const s = await services();
      if (!enabled) {
        const t = await disableTenant(s.tenantDeps(), tenantId);
        if (opts.json) await io.out(tenantJson({ tenant: t }));
        io.err(`Tenant ${t.tenantId} is disabled.\n`);
        return EXIT_OK;
      }
      const outcome = await enableTenant(s.tenantDeps(), tenantId);
      if (opts.json) await io.out(tenantJson(outcome));
      io.err(verifyMessage(outcome));
      return outcome.failure ? EXIT_TENANT_FAILED : EXIT_OK;
    },

    async tenantsRemove(tenantId, opts) {
      const id = parseTenantId(tenantId);
      const s = await services();
      await removeTenant(s.tenantDeps(), tenantId, opts.purge);
      if (opts.json) await io.out(`${JSON.stringify({ tenantId: id, removed: true, purged: opts.purge })}\n`);
      io.err(
        `Tenant ${id} removed${opts.purge ? ' with its incidents and history' : ' (its incidents and history are kept)'}.\n`,
      );
      return EXIT_OK;
    },

    async credentialsCheck(opts) {
      const s = await services();
      const result = await checkCredentials({
        tokens: s.entraTokens,
        clock: s.clock,
        ...(s.settings.partnerTenantId !== undefined ? { partnerTenantId: s.settings.partnerTenantId } : {}),
      });
      if (opts.json) await io.out(`${JSON.stringify(result)}\n`);
      else await io.out(credentialsText(result));
      if (result.proof.status === 'skipped')
        io.err('PARTNER_TENANT_ID is not set: the credential was read but not proven with a token request.\n');
      for (const p of result.problems) io.err(`warning: ${p.code}: ${p.message}\n`);
      return result.proof.status === 'failed' ? EXIT_TENANT_FAILED : EXIT_OK;
    },
    async status(opts) {
      const s = await services();
      const { report, tenants } = await readHealth(s.healthDeps());
      const needsAction = adviseTenants(tenants, {
        now: s.clock.now(),
        defaultSource: s.settings.incidentSource,
      }).filter((a) => a.needsAction);
      if (opts.json) await io.out(`${JSON.stringify({ ...report, needsAction })}\n`);
      else await io.out(statusText(report, needsAction));
      return report.status === 'unhealthy' ? EXIT_TENANT_FAILED : EXIT_OK;
    },

    async consentLink(opts) {
      parseDisplayName(opts.name, '--name');
      const validDays = parseValidDays(opts.validDays);
      const bulk = opts.fromCsv !== undefined || opts.expired;
      if (opts.fromCsv !== undefined && opts.expired)
        throw new InputError('--expired', '--from-csv and --expired cannot be combined.');
      if (bulk && (opts.tenant !== undefined || opts.name !== undefined))
        throw new InputError(
          opts.tenant !== undefined ? '--tenant' : '--name',
          `${opts.tenant !== undefined ? '--tenant' : '--name'} cannot be combined with ${opts.expired ? '--expired' : '--from-csv'}.`,
        );
      let rows: OnboardingRow[] | undefined;
      if (opts.fromCsv !== undefined) {
        let text: string;
        try {
          text = await readFile(opts.fromCsv, 'utf8');
        } catch (error) {
          throw new InputError(
            '--from-csv',
            `--from-csv: cannot read ${JSON.stringify(opts.fromCsv)} (${(error as { code?: string }).code ?? 'error'}).`,
          );
        }
        rows = parseOnboardingCsv(text);
      }
      const s = await services();
      if (bulk) {
        const deps = { consentLink: s.consentLinkDeps(), tenants: s.tenants };
        const links = rows ? await issueLinks(deps, rows, validDays) : await renewExpiredLinks(deps, validDays);
        await io.out(opts.json ? `${JSON.stringify(links)}\n` : linksCsv(links));
        io.err(
          links.length === 0
            ? 'No pending tenant has an expired link.\n'
            : `${links.length} link${links.length === 1 ? '' : 's'}, each valid until its expiresAt and usable once.\n`,
        );
        return EXIT_OK;
      }
      const link = await createConsentLink(s.consentLinkDeps(), {
        ...(opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(validDays !== undefined ? { validDays } : {}),
      });
      // A registered tenant awaiting consent remembers its newest link's expiry (`consent-link --expired`).
      if (opts.tenant !== undefined && isTenantId(opts.tenant.trim())) {
        const registered = await s.tenants.get(opts.tenant.trim().toLowerCase());
        if (registered?.status === 'pending_consent')
          await s.tenants.update(registered.tenantId, { consentLinkExpiresAt: link.expiresAt });
      }
      await io.out(opts.json ? `${JSON.stringify({ url: link.url, expiresAt: link.expiresAt })}\n` : `${link.url}\n`);
      io.err(`The link is valid until ${link.expiresAt} and works once.\n`);
      return EXIT_OK;
    },

    async historyPrune(opts) {
      const s = await services();
      const report = await pruneHistory(s.retentionDeps(), { dryRun: opts.dryRun });
      if (opts.json) await io.out(`${JSON.stringify(report)}\n`);
      else await io.out(pruneText(report));
      for (const f of report.failed) io.err(`Tenant ${f.tenantId} failed: ${f.code}: ${f.message}\n`);
      if (report.cutoff === null)
        io.err('HISTORY_RETENTION_DAYS is 0: every version is kept; only orphan payload chunks were looked for.\n');
      return report.failed.length > 0 ? EXIT_TENANT_FAILED : EXIT_OK;
    },

    async incidentsExport(opts) {
      requireSince(opts.since);
      if (opts.tenant !== undefined) parseTenantId(opts.tenant, '--tenant');
      const s = await services();
      let count = 0;
      const progress = new Progress(io, 'snapshots exported', () => s.clock.now().getTime());
      for await (const line of exportIncidents(s, {
        ...(opts.tenant !== undefined ? { tenantId: opts.tenant } : {}),
        history: opts.history,
        ...(opts.since !== undefined ? { since: opts.since } : {}),
      })) {
        await io.out(`${line}\n`);
        count++;
        progress.add();
      }
      progress.done();
      io.err(`Exported ${count} snapshot${count === 1 ? '' : 's'}.\n`);
      return EXIT_OK;
    },

    demo,
  };
}

/**
 * Map an error escaping a command to its message and exit code: 2 for the caller's mistake (config, input, a
 * tenant the caller named that is not registered — TENANT_NOT_FOUND), 1 for anything else, including a row of ours
 * found missing (e.g. TABLE_RUN_NOT_FOUND during `collect`), which is a failure, not a usage error.
 */
export function exitCodeOfError(error: unknown): { code: number; message: string } {
  if (error instanceof ConfigError) return { code: EXIT_USAGE, message: error.message };
  if (error instanceof InputError) return { code: EXIT_USAGE, message: error.message };
  if (
    error instanceof NotFoundError &&
    (error.code === ErrorCode.TENANT_NOT_FOUND || error.code === ErrorCode.SUBSCRIPTION_NOT_FOUND)
  )
    return { code: EXIT_USAGE, message: error.message };
  const e = error instanceof Error ? error : new Error(String(error));
  return { code: EXIT_TENANT_FAILED, message: `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` };
}
