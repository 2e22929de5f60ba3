/**
 * Secret hygiene (issue 5 §5, issue 13): with every issued token and presented client assertion captured and the
 * stack's secrets known (partner secret, vault reader secret, partner certificate private key), scan every log
 * line, error message, child-process output, export line (the real CLI) and raw table row for them.
 */
import { runCli } from '../../devstack/cli.js';
import type { LocalStack } from '../../devstack/stack.js';
import { rawTableRows } from './rawTables.js';
import { SecretScanner } from './secretScanner.js';

export interface HygieneInputs {
  readonly stack: LocalStack;
  readonly tokens: ReadonlySet<string>;
  /** Client assertions presented to Entra (certificate-signed JWTs and managed-identity tokens). */
  readonly assertions?: ReadonlySet<string>;
  /** Other private keys a scenario used (e.g. a certificate Entra does not trust), PEM. */
  readonly extraPrivateKeys?: readonly string[];
  /** Other secret values a scenario used (e.g. a wrong secret put in Key Vault). */
  readonly extraSecrets?: readonly string[];
  readonly logLines: readonly string[];
  readonly messages: readonly string[];
  readonly childOutput: readonly string[];
}

export interface HygieneFigures {
  readonly secretsKnown: number;
  readonly tokensKnown: number;
  readonly textsScanned: number;
  readonly hits: number;
  readonly hitPlaces: string[];
}

/**
 * What of a PEM private key to look for: the whole base64 body (newlines removed, as JSON or a one-line log would
 * carry it) and each 64-character line (a key printed as PEM, or cut).
 */
export function privateKeyParts(pem: string): string[] {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]*PRIVATE KEY-----/g, '').trim();
  const lines = body.split(/\r?\n/).filter((l) => l.length >= 32);
  return [body.replace(/\s+/g, ''), ...lines];
}

export async function scanForSecrets(inputs: HygieneInputs): Promise<HygieneFigures> {
  const { stack } = inputs;
  const scanner = new SecretScanner();
  scanner.add(stack.partnerSecret, 'partner secret');
  scanner.add(stack.env.AZURE_CLIENT_SECRET as string, 'Key Vault reader secret');
  for (const s of inputs.extraSecrets ?? []) scanner.add(s, 'other secret');
  for (const pem of [stack.partnerCertificate?.keyPem, ...(inputs.extraPrivateKeys ?? [])])
    if (pem !== undefined) for (const part of privateKeyParts(pem)) scanner.add(part, 'certificate private key');
  scanner.addAll(inputs.tokens, 'token');
  scanner.addAll(inputs.assertions ?? [], 'assertion');

  scanner.scanAll(inputs.logLines, 'log line');
  scanner.scanAll(inputs.messages, 'error message');
  scanner.scanAll(inputs.childOutput, 'child process output');
  const env = { ...stack.env };
  for (const argv of [
    ['incidents', 'export'],
    ['incidents', 'export', '--history'],
    ['tenants', 'list', '--json'],
  ]) {
    const out = await runCli(argv, env);
    scanner.scanAll(out.stdout.split('\n'), `${argv.join(' ')} line`);
    scanner.scan(out.stderr, `${argv.join(' ')} stderr`);
  }
  for (const row of await rawTableRows(stack.azurite?.connectionString as string))
    scanner.scan(row.line, `${row.table} row`);
  return {
    secretsKnown: scanner.secretCount,
    tokensKnown: inputs.tokens.size + (inputs.assertions?.size ?? 0),
    textsScanned: scanner.textsScanned,
    hits: scanner.hits.length,
    hitPlaces: [...new Set(scanner.hits.map((h) => `${h.secret} in ${h.where}`))],
  };
}
