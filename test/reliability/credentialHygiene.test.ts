/**
 * Secret hygiene for the secretless and certificate credentials (issue 13): collect with a good and with an
 * untrusted certificate, and with a managed identity as federated credential (also refused once), then scan every
 * log line, error message, export line and raw table row for the certificates' private keys, every client
 * assertion presented to Entra and every token it issued: 0 hits. The scanner is shown to find a planted key and
 * assertion first, so 0 hits means something.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { collectorProcess } from '../../scripts/reliability/collectorServices.js';
import { privateKeyParts, scanForSecrets } from '../../scripts/reliability/secretHygiene.js';
import { SecretScanner } from '../../scripts/reliability/secretScanner.js';
import { captureIssuedTokens } from '../../scripts/reliability/simHooks.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { createPartnerCertificate } from '../../devstack/certs.js';
import { PARTNER_CERTIFICATE_NAME, startLocalStack, type LocalStack } from '../../devstack/stack.js';

async function collectTwice(
  stack: LocalStack,
  env: Record<string, string>,
  breakIt: () => void,
  fixIt: () => void,
  refusedCode: string,
  logLines: string[],
  messages: string[],
): Promise<void> {
  const allocator = new TenantAllocator(stack, '13e00000');
  const tenants = allocator.allocate(2, 5);
  for (const [step, expected] of [
    [() => undefined, 'ok'],
    [breakIt, 'failed'],
    [fixIt, 'ok'],
  ] as const) {
    step();
    // A new process each time: nothing cached from the previous step.
    const proc = await collectorProcess({ env: { ...env, SYNC_LAG_SECONDS: '0' }, logLines });
    await TenantAllocator.register(proc.services.tenants, tenants);
    const run = await runCollection(proc.runDeps, { trigger: 'reliability', tenantIds: tenants });
    expect(run.tenants.map((t) => t.status)).toEqual(tenants.map(() => expected));
    if (expected === 'failed') for (const t of run.tenants) expect(t.error?.code).toBe(refusedCode);
    messages.push(...run.tenants.flatMap((r) => (r.error ? [r.error.message] : [])));
  }
}

it('the scanner finds a planted private key and assertion', async () => {
  const cert = await createPartnerCertificate('planted');
  const scanner = new SecretScanner();
  for (const part of privateKeyParts(cert.keyPem)) scanner.add(part, 'certificate private key');
  const assertion = 'eyJhbGciOiJQUzI1NiIsIng1dCNTMjU2IjoiYWJjIn0.eyJqdGkiOiJ4In0.YXNzZXJ0aW9uLXNpZ25hdHVyZS12YWx1ZQ';
  scanner.add(assertion, 'assertion');
  scanner.scan(JSON.stringify({ message: `bad key ${cert.keyPem}` }), 'log line');
  scanner.scan(`client_assertion=${assertion}`, 'log line');
  scanner.scan('nothing here', 'log line');
  expect([...new Set(scanner.hits.map((h) => h.secret))]).toEqual(['certificate private key', 'assertion']);
});

describe('certificate credential hygiene', () => {
  let stack: LocalStack;
  const tokens = new Set<string>();
  const assertions = new Set<string>();

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [], credential: 'certificate' });
    stack.trustInProcess();
    captureIssuedTokens(stack.entra, tokens, assertions);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('0 private keys, assertions or tokens in logs, errors, exports and table rows', async () => {
    const logLines: string[] = [];
    const messages: string[] = [];
    const untrusted = await createPartnerCertificate('untrusted');
    const good = stack.partnerCertificate;
    if (!good) throw new Error('no certificate');
    await collectTwice(
      stack,
      stack.env,
      () => void stack.keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, untrusted.pem, untrusted.certPem),
      () => void stack.keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, good.pem, good.certPem),
      'AADSTS700027',
      logLines,
      messages,
    );
    const figures = await scanForSecrets({
      stack,
      tokens,
      assertions,
      extraPrivateKeys: [untrusted.keyPem],
      logLines,
      messages,
      childOutput: [],
    });
    expect(assertions.size).toBeGreaterThan(2);
    expect(figures.textsScanned).toBeGreaterThan(20);
    expect(figures.hitPlaces).toEqual([]);
  });
});

describe('federated credential hygiene', () => {
  let stack: LocalStack;
  const tokens = new Set<string>();
  const assertions = new Set<string>();
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [], credential: 'federated' });
    stack.trustInProcess();
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
      saved[name] = process.env[name];
      process.env[name] = stack.env[name];
    }
    captureIssuedTokens(stack.entra, tokens, assertions);
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await stack?.stop();
  });

  it('0 managed-identity tokens, assertions or tokens in logs, errors, exports and table rows', async () => {
    const logLines: string[] = [];
    const messages: string[] = [];
    const mi = stack.managedIdentity;
    if (!mi) throw new Error('no managed identity');
    const fic = { issuer: stack.entra.homeIssuer, audience: 'api://AzureADTokenExchange' };
    await collectTwice(
      stack,
      stack.env,
      () => {
        stack.entra.clearFederatedCredentials();
        stack.entra.addFederatedCredential({ ...fic, subject: '00000000-0000-4000-8000-0000000000fe' });
      },
      () => stack.entra.addFederatedCredential({ ...fic, subject: mi.principalId }),
      'AADSTS70021',
      logLines,
      messages,
    );
    const figures = await scanForSecrets({ stack, tokens, assertions, logLines, messages, childOutput: [] });
    expect(assertions.size).toBeGreaterThan(0);
    expect(figures.hitPlaces).toEqual([]);
  });
});
