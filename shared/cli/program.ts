/**
 * The `incident-collector` command line (design §5, a contract). Parsing only: each action calls one function in
 * commands.ts and the returned number is the exit code (0 ok · 1 some tenant failed · 2 usage/configuration).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option, type CommanderError } from 'commander';
import type { Io } from './io.js';
import type { AddOptions, SubscriptionHandlers } from './subscriptionCommands.js';

const PACKAGE_NAME = 'defender-incident-collector';
let packageVersionCache: string | undefined;

/**
 * The `version` of this package's package.json, read once (a file read, not a JSON import: nothing is loaded at
 * start-up before `--version` asks). Found by walking up from this module (sources and `dist/` sit at different
 * depths); `0.0.0` when no package.json of this package is found (a bundled copy without one).
 */
export function packageVersion(): string {
  if (packageVersionCache !== undefined) return packageVersionCache;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return (packageVersionCache = pkg.version);
    } catch {
      // No (readable) package.json here: look one level up.
    }
    const parent = dirname(dir);
    if (parent === dir) return (packageVersionCache = '0.0.0');
    dir = parent;
  }
}

export interface CommandHandlers extends SubscriptionHandlers {
  /** `deliver: false` with `--no-deliver` (no delivery pass at the end). */
  collect(opts: { tenant: string[]; since?: string; json: boolean; deliver?: boolean }): Promise<number>;
  tenantsList(opts: { json: boolean; status: string[] }): Promise<number>;
  tenantsSetSource(tenantId: string, source: string, opts: { json: boolean }): Promise<number>;
  sourcesCheck(opts: { tenant: string[]; json: boolean }): Promise<number>;
  tenantsAdd(tenantId: string, opts: { name?: string; verify: boolean; json: boolean }): Promise<number>;
  tenantsSetEnabled(tenantId: string, enabled: boolean, opts: { json: boolean }): Promise<number>;
  tenantsRemove(tenantId: string, opts: { purge: boolean; json: boolean }): Promise<number>;
  consentLink(opts: {
    tenant?: string;
    name?: string;
    fromCsv?: string;
    validDays?: string;
    expired: boolean;
    json: boolean;
  }): Promise<number>;
  incidentsExport(opts: { tenant?: string; history: boolean; since?: string }): Promise<number>;
  demo(opts: { source: 'graph' | 'm365d' }): Promise<number>;
  credentialsCheck(opts: { json: boolean }): Promise<number>;
  status(opts: { json: boolean }): Promise<number>;
  historyPrune(opts: { json: boolean; dryRun: boolean }): Promise<number>;
}

const collectTenantOption = (value: string, previous: string[]): string[] => [...previous, value];

export function buildProgram(handlers: CommandHandlers, io: Io, setExit: (code: number) => void): Command {
  const program = new Command('incident-collector')
    .description('Collect Microsoft Defender incidents from every consented customer tenant into Table Storage.')
    .showHelpAfterError('(run with --help for usage)')
    .version(packageVersion(), '-V, --version', 'print the version of incident-collector')
    .helpOption('-h, --help', 'show help for the command')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) });

  const run = (fn: () => Promise<number>) => async () => setExit(await fn());

  program
    .command('collect')
    .description("Collect incidents that changed since each tenant's checkpoint.")
    .option('--tenant <id>', 'only this tenant (repeatable)', collectTenantOption, [])
    .option('--since <ISO-8601>', 'one-off backfill from this instant (the checkpoint only moves forward)')
    .option('--json', 'print the run summary as one JSON object on stdout', false)
    .option('--no-deliver', 'skip the delivery pass to subscriptions at the end')
    .action((opts: { tenant: string[]; since?: string; json: boolean; deliver: boolean }) =>
      run(() => handlers.collect(opts))(),
    );

  const subscriptions = program
    .command('subscriptions')
    .description('Where incident events go: webhooks and Log Analytics (design §9).');
  subscriptions
    .command('add')
    .description(
      'Add a webhook (--url) or Log Analytics (--log-analytics) subscription; it gets events written from now on.',
    )
    .option('--url <url>', 'webhook URL (https://; http:// only for a loopback host)')
    .option('--secret <whsec_…>', 'the signing secret to use (default: a new one, shown once)')
    .option('--log-analytics', 'a Log Analytics subscription (Azure Monitor Logs Ingestion)', false)
    .option('--endpoint <dce-url>', 'data collection endpoint (log-analytics)')
    .option('--rule <dcr-immutable-id>', 'data collection rule immutable ID (log-analytics)')
    .option('--stream <name>', 'stream name, e.g. Custom-DefenderIncidents_CL (log-analytics)')
    .option('--tenant <id>', 'only this tenant (repeatable)', collectTenantOption, [])
    .option('--min-severity <level>', 'informational, low, medium or high (unknown severities pass)')
    .option('--type <type>', 'incident.created or incident.updated (repeatable)', collectTenantOption, [])
    .option('--json', 'print { id, kind, url?, secret?, filters } on stdout', false)
    .action((opts: AddOptions) => run(() => handlers.subscriptionsAdd(opts))());
  subscriptions
    .command('list')
    .description('List the subscriptions with their status, backlog (pending) and dead letters (never a secret).')
    .option('--json', 'print a JSON array', false)
    .action((opts: { json: boolean }) => run(() => handlers.subscriptionsList(opts))());
  subscriptions
    .command('remove <subscriptionId>')
    .description('Remove a subscription, its secret and its delivery state.')
    .option('--json', 'print { id, removed } as one JSON object on stdout', false)
    .action((id: string, opts: { json: boolean }) => run(() => handlers.subscriptionsRemove(id, opts))());
  subscriptions
    .command('enable <subscriptionId>')
    .description('Re-activate a subscription (e.g. disabled by a 410): the events it owes are sent.')
    .option('--json', 'print { id, status } as one JSON object on stdout', false)
    .action((id: string, opts: { json: boolean }) => run(() => handlers.subscriptionsEnable(id, opts))());
  subscriptions
    .command('deadletters <subscriptionId>')
    .description('Events given up on after the retry schedule.')
    .option('--json', 'print a JSON array', false)
    .action((id: string, opts: { json: boolean }) => run(() => handlers.subscriptionsDeadLetters(id, opts))());
  subscriptions
    .command('replay <subscriptionId>')
    .description("Re-queue the subscription's events (dead letters included) for delivery in order.")
    .option('--since <ISO-8601>', 'only events whose time is at or after this instant (default: all)')
    .option('--tenant <id>', 'only this tenant (repeatable)', collectTenantOption, [])
    .option(
      '--json',
      'print { subscriptionId, tenants: [{ tenantId, fromSequence }], deadLettersRequeued } on stdout',
      false,
    )
    .action((id: string, opts: { since?: string; tenant: string[]; json: boolean }) =>
      run(() => handlers.subscriptionsReplay(id, opts))(),
    );

  program
    .command('deliver')
    .description('Send every event that is due (new ones, and retries whose time has come), then exit.')
    .option('--json', 'print { delivered, failed, deadLettered, pending } on stdout', false)
    .action((opts: { json: boolean }) => run(() => handlers.deliver(opts))());

  const tenants = program.command('tenants').description('Manage the registered customer tenants.');
  tenants
    .command('list')
    .description('List the registered tenants with their status, checkpoint and last error.')
    .option('--json', 'print a JSON array', false)
    .option('--status <status>', 'only tenants with this status (repeatable)', collectTenantOption, [])
    .action((opts: { json: boolean; status: string[] }) => run(() => handlers.tenantsList(opts))());
  tenants
    .command('set-source <tenantId> <source>')
    .description(
      "Collect this tenant from graph or m365d (the legacy API), or 'default' (INCIDENT_SOURCE); the checkpoint is kept.",
    )
    .option('--json', 'print the tenant as one JSON object on stdout (as in tenants list --json)', false)
    .action((tenantId: string, source: string, opts: { json: boolean }) =>
      run(() => handlers.tenantsSetSource(tenantId, source, opts))(),
    );

  const sources = program.command('sources').description('Incident sources (Graph, the retiring legacy API).');
  sources
    .command('check')
    .description(
      'Probe each tenant on each source (one token, one $top=1 call each; nothing collected) and recommend an action.',
    )
    .option('--tenant <id>', 'only this tenant (repeatable)', collectTenantOption, [])
    .option('--json', 'print the report as one JSON object on stdout', false)
    .action((opts: { tenant: string[]; json: boolean }) => run(() => handlers.sourcesCheck(opts))());
  tenants
    .command('add <tenantId>')
    .description('Register a tenant (verifies with a token and one $top=1 call unless --no-verify).')
    .option('--name <displayName>', 'display name')
    .option('--no-verify', 'store it active and let the first collection verify')
    .option('--json', 'print { tenant, error } as one JSON object on stdout', false)
    .action((tenantId: string, opts: { name?: string; verify: boolean; json: boolean }) =>
      run(() => handlers.tenantsAdd(tenantId, opts))(),
    );
  tenants
    .command('disable <tenantId>')
    .description('Stop collecting this tenant (its data and checkpoint are kept) until it is enabled.')
    .option('--json', 'print { tenant, error } as one JSON object on stdout', false)
    .action((tenantId: string, opts: { json: boolean }) =>
      run(() => handlers.tenantsSetEnabled(tenantId, false, opts))(),
    );
  tenants
    .command('enable <tenantId>')
    .description('Re-verify the tenant and store the resulting status (active when verification passes).')
    .option('--json', 'print { tenant, error } as one JSON object on stdout', false)
    .action((tenantId: string, opts: { json: boolean }) =>
      run(() => handlers.tenantsSetEnabled(tenantId, true, opts))(),
    );
  tenants
    .command('remove <tenantId>')
    .description('Unregister the tenant; its incidents and history are kept unless --purge.')
    .option('--purge', 'also delete its incidents and history', false)
    .option('--json', 'print { tenantId, removed, purged } as one JSON object on stdout', false)
    .action((tenantId: string, opts: { purge: boolean; json: boolean }) =>
      run(() => handlers.tenantsRemove(tenantId, opts))(),
    );

  program
    .command('consent-link')
    .description("Print an admin-consent URL for a customer's administrator.")
    .option('--tenant <id|domain>', 'a tenant ID (only that tenant is then accepted) or a domain (sign-in hint)')
    .option('--name <displayName>', 'display name to register the tenant with')
    .option('--from-csv <file>', 'one link per row of a CSV file (tenant ID or domain, display name)')
    .option('--expired', 'a new link for every pending_consent tenant whose link expired', false)
    .option('--valid-days <days>', 'how long the links stay valid, 1-30 days (default: 24 hours)')
    .option('--json', 'print JSON instead of the URL (one link) or CSV (several links)', false)
    .action(
      (opts: {
        tenant?: string;
        name?: string;
        fromCsv?: string;
        validDays?: string;
        expired: boolean;
        json: boolean;
      }) => run(() => handlers.consentLink(opts))(),
    );

  const incidents = program.command('incidents').description('Read the collected incidents.');
  incidents
    .command('export')
    .description('Write stored snapshots as NDJSON to stdout.')
    .option('--tenant <id>', 'only this tenant')
    .option('--history', 'every version instead of the latest', false)
    .addOption(new Option('--since <ISO-8601>', 'only snapshots with lastUpdateTime at or after this instant'))
    .action((opts: { tenant?: string; history: boolean; since?: string }) =>
      run(() => handlers.incidentsExport(opts))(),
    );

  const history = program.command('history').description('The stored incident versions (IncidentHistory).');
  history
    .command('prune')
    .description(
      'Remove history versions older than HISTORY_RETENTION_DAYS (never a latest version, never one with undelivered events) and payload chunks no row references.',
    )
    .option('--dry-run', 'count what would be removed without removing anything', false)
    .option('--json', 'print the counts as one JSON object on stdout', false)
    .action((opts: { json: boolean; dryRun: boolean }) => run(() => handlers.historyPrune(opts))());

  const credentials = program.command('credentials').description("The partner app's credential.");
  credentials
    .command('check')
    .description(
      "Print the credential's kind, version, expiry and days left, and prove it with one token request against PARTNER_TENANT_ID (no customer tenant is touched).",
    )
    .option('--json', 'print one JSON object on stdout', false)
    .action((opts: { json: boolean }) => run(() => handlers.credentialsCheck(opts))());

  program
    .command('status')
    .description(
      'Health (as GET /api/health answers it) and the tenants that need action, each with the fix and the command to run; exit 1 when unhealthy.',
    )
    .option('--json', 'print one JSON object on stdout: the health report plus needsAction', false)
    .action((opts: { json: boolean }) => run(() => handlers.status(opts))());

  program
    .command('demo')
    .description(
      'Start a local stack (Azurite + simulated Entra ID, Key Vault, Graph, legacy API) with a few customer tenants and collect them.',
    )
    .addOption(
      new Option('--source <source>', 'incident source to collect from').choices(['graph', 'm365d']).default('graph'),
    )
    .action((opts: { source: 'graph' | 'm365d' }) => run(() => handlers.demo(opts))());

  return program;
}

/** Commander's own exits: help/version are 0, every usage error is 2 (not commander's default 1). */
export function exitCodeOfCommanderError(error: CommanderError): number {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help')
    return 0;
  return 2;
}
