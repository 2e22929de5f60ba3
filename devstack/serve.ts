/**
 * `npm run stack`: the local stack alone (Azurite + HTTPS simulators of Entra ID, Key Vault, Graph and the legacy
 * API) with the demo tenants registered, kept running until Ctrl-C (SIGINT) or SIGTERM. It prints, and writes
 * next to the repository's `local.settings.json` (both files are git-ignored), the settings that point the CLI or
 * `func start` at it:
 *
 * - `local.stack.env`: `NAME='value'` lines, e.g. `set -a; . ./local.stack.env; set +a` before
 *   `incident-collector …` or `func start`. Core Tools keeps a variable already set in the environment over
 *   `local.settings.json` (it logs "Skipping … already defined"), so the committed placeholders stay as they are.
 * - `local.settings.user.json`: the same settings as a `local.settings.json` document (`IsEncrypted`, `Values`), to
 *   paste from or copy over a private `local.settings.json`.
 *
 * NODE_EXTRA_CA_CERTS names the generated CA (a PEM file that lives as long as the stack): Node reads it at start,
 * so it must be in the environment of the process that starts (`func`, the CLI), not set later.
 * The secrets printed are the simulators' own, random per start (the vault reader's client secret); nothing here
 * is a real credential. Options: `--tenants N` (default 3), `--out DIR` (default: the current directory).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadSettings } from '../shared/config/settings.js';
import { createServices } from '../shared/composition.js';
import { stderrLogger } from '../shared/log.js';
import { addTenant } from '../shared/usecases/tenants.js';
import { demoTenants } from './demoTenants.js';
import { startLocalStack, type LocalStack } from './stack.js';

/** The line printed once the stack serves and the settings files are written (a supervisor can wait for it). */
export const READY_LINE = 'Local stack ready. Ctrl-C stops it and frees its ports.';

/** Where `func start` (default port 7071) sends the consent callback; registered with the Entra simulator. */
export const FUNC_CONSENT_REDIRECT_URI = 'http://localhost:7071/api/consent/callback';

/**
 * The settings pointing a collector at `stack`: the stack's env (design §3 settings, the vault reader identity,
 * NODE_EXTRA_CA_CERTS) plus the local defaults of `local.settings.json`, ordered by name.
 * `consentRedirectUri` replaces the stack's own (the Functions host serves the callback).
 */
export function stackSettings(stack: LocalStack, consentRedirectUri: string): Record<string, string> {
  const values: Record<string, string> = {
    FUNCTIONS_WORKER_RUNTIME: 'node',
    INCIDENT_SOURCE: 'graph',
    ...stack.env,
    CONSENT_REDIRECT_URI: consentRedirectUri,
  };
  return Object.fromEntries(Object.entries(values).sort(([a], [b]) => a.localeCompare(b)));
}

/** `NAME='value'` lines a POSIX shell can source (single quotes escaped), one per setting. */
export function envLines(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}='${value.replaceAll("'", `'\\''`)}'\n`)
    .join('');
}

/** A `local.settings.json` document holding `values`. */
export function localSettingsDocument(values: Record<string, string>): string {
  return `${JSON.stringify({ IsEncrypted: false, Values: values }, null, 2)}\n`;
}

/** What `npm run stack` was asked for. */
export interface ServeOptions {
  /** Demo tenants to register (1 to 500). */
  readonly tenants: number;
  /** Folder that receives local.stack.env and local.settings.user.json. */
  readonly outDir: string;
}

/** `--tenants N`, `--out DIR`; throws naming the option on bad input. */
export function parseServeArgs(argv: readonly string[]): ServeOptions {
  let tenants = 3;
  let outDir = process.cwd();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--tenants' && value !== undefined) {
      tenants = Number(value);
      if (!Number.isInteger(tenants) || tenants < 1 || tenants > 500)
        throw new Error(`--tenants must be a whole number from 1 to 500, got "${value}".`);
      i++;
    } else if (arg === '--out' && value !== undefined) {
      outDir = path.resolve(value);
      i++;
    } else {
      throw new Error(`Unknown or incomplete option "${arg}". Usage: npm run stack -- [--tenants N] [--out DIR]`);
    }
  }
  return { tenants, outDir };
}

/**
 * Start, register the demo tenants, print and write the settings, then serve until a signal (which stops the stack
 * and exits). Resolves with the settings once the stack serves.
 */
export async function serveLocalStack(options: ServeOptions): Promise<Record<string, string>> {
  const say = (text: string) => process.stdout.write(text);
  const specs = demoTenants(options.tenants).map((spec, i) => ({ ...spec, incidents: [120, 45, 12][i % 3] as number }));
  process.stderr.write(`Starting Azurite and the simulators with ${specs.length} demo tenants…\n`);
  const stack = await startLocalStack({ tenants: specs });
  let stopping: Promise<void> | undefined;
  const stop = (signal: NodeJS.Signals) => {
    stopping ??= (async () => {
      process.stderr.write(`\n${signal}: stopping the local stack…\n`);
      await stack.stop();
      process.stderr.write('Stopped.\n');
    })();
    return stopping;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      stop(signal).then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`Stopping failed: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    });
  try {
    stack.trustInProcess();
    stack.entra.addRedirectUri(FUNC_CONSENT_REDIRECT_URI);
    const values = stackSettings(stack, FUNC_CONSENT_REDIRECT_URI);
    const services = createServices(loadSettings(values), { logger: stderrLogger('warn'), env: values });
    await services.ready();
    const registered: string[] = [];
    for (const spec of specs) {
      const outcome = await addTenant(services.tenantDeps(), {
        tenantId: spec.tenantId,
        ...(spec.displayName ? { displayName: spec.displayName } : {}),
        verify: true,
      });
      registered.push(`  ${outcome.tenant.tenantId}  ${outcome.tenant.displayName}  (${outcome.tenant.status})\n`);
    }
    const envFile = path.join(options.outDir, 'local.stack.env');
    const settingsFile = path.join(options.outDir, 'local.settings.user.json');
    await writeFile(envFile, envLines(values), { mode: 0o600 });
    await writeFile(settingsFile, localSettingsDocument(values), { mode: 0o600 });
    say(
      [
        `Azurite: ${stack.azurite?.tableEndpoint ?? '(none)'} (tables), ${stack.azurite?.queueEndpoint ?? ''} (queues)`,
        `Entra ID: ${stack.entra.url}   Key Vault: ${stack.keyVault.url}`,
        `Graph: ${stack.graph.url}   legacy API: ${stack.legacy.url}`,
        `Subscription-secrets vault: ${stack.subscriptionVault.url}`,
        `Logs Ingestion: endpoint ${stack.logAnalytics.endpoint}  rule ${stack.logAnalytics.ruleId}  stream ${stack.logAnalytics.stream}`,
        `  node dist/shared/cli/main.js subscriptions add --log-analytics --endpoint ${stack.logAnalytics.endpoint} --rule ${stack.logAnalytics.ruleId} --stream ${stack.logAnalytics.stream}`,
        `Tenants registered:\n${registered.join('').trimEnd()}`,
        '',
        `# Environment (written to ${envFile}):`,
        envLines(values).trimEnd(),
        '',
        `# local.settings.json "Values" (written to ${settingsFile}):`,
        localSettingsDocument(values).trimEnd(),
        '',
        'Use it from another terminal, in the repository root:',
        `  set -a; . '${envFile}'; set +a`,
        '  node dist/shared/cli/main.js tenants list     # or: func start (environment wins over local.settings.json)',
        '',
        READY_LINE,
        '',
      ].join('\n'),
    );
    return values;
  } catch (error) {
    await stop('SIGTERM');
    throw error;
  }
}
