/**
 * Issue 13, end to end per credential kind (real adapters, Azurite and the simulators; the Azure SDK's own
 * certificate, client-assertion and managed-identity credentials talk to the Entra sim):
 * collection works; a wrong certificate / a wrong federated subject fails every tenant with `credential_error`
 * and the AADSTS code naming the cause, and recovers once fixed; a certificate rotated mid-run (PKCS#12 this time)
 * is picked up without a restart and loses nothing; `credentials check` reports kind, version, expiry and proof.
 */
import { X509Certificate as X509 } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices, type Services } from '../../shared/composition.js';
import { silentLogger } from '../../shared/log.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { createPartnerCertificate, toPkcs12Base64 } from '../../devstack/certs.js';
import { ndjson, runCli } from '../../devstack/cli.js';
import { PARTNER_CERTIFICATE_NAME, startLocalStack, type LocalStack } from '../../devstack/stack.js';

const TENANTS = [
  '13c00000-0000-4000-8000-000000000001',
  '13c00000-0000-4000-8000-000000000002',
  '13c00000-0000-4000-8000-000000000003',
];
const INCIDENTS = 6;

interface CollectJson {
  tenants: { tenantId: string; status: string; error?: { code: string; message: string } }[];
}
interface TenantJson {
  tenantId: string;
  status: string;
  lastErrorCode: string | null;
}
interface CheckJson {
  kind: string | null;
  name: string | null;
  version: string | null;
  expiresOn: string | null;
  daysLeft: number | null;
  problems: { code: string }[];
  proof: { status: string; tenantId: string | null; error?: { code: string } };
}

async function expectEveryTenantRefused(
  cli: (...a: string[]) => Promise<{ code: number; stdout: string }>,
  code: string,
) {
  const run = await cli('collect', '--json');
  expect(run.code).toBe(1);
  const results = (JSON.parse(run.stdout) as CollectJson).tenants;
  expect(results).toHaveLength(TENANTS.length);
  for (const r of results) expect(r).toMatchObject({ status: 'failed', error: { code } });
  const tenants = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as TenantJson[];
  for (const t of tenants) expect(t).toMatchObject({ status: 'credential_error', lastErrorCode: code });
}

async function expectEveryTenantCollected(cli: (...a: string[]) => Promise<{ code: number; stdout: string }>) {
  const run = await cli('collect', '--json');
  expect((JSON.parse(run.stdout) as CollectJson).tenants.map((t) => t.status)).toEqual(TENANTS.map(() => 'ok'));
  expect(run.code).toBe(0);
  const tenants = JSON.parse((await cli('tenants', 'list', '--json')).stdout) as TenantJson[];
  for (const t of tenants) expect(t.status).toBe('active');
}

describe('certificate credential', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  let services: Services;
  const cli = (...argv: string[]) => runCli(argv, env);
  const registered: string[] = [];
  const registeredBefore = async () => registered.splice(0);

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: TENANTS.map((tenantId) => ({ tenantId, incidents: INCIDENTS })),
      credential: 'certificate',
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
    for (const t of TENANTS) expect((await cli('tenants', 'add', t)).code).toBe(0);
    services = createServices(loadSettings(env), { logger: silentLogger, env });
    await services.ready();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('credentials check reports the certificate, its expiry and a token from the home tenant', async () => {
    const check = await cli('credentials', 'check', '--json');
    expect(check.code).toBe(0);
    const result = JSON.parse(check.stdout) as CheckJson;
    const validTo = new Date(new X509(stack.partnerCertificate?.certPem ?? '').validTo).toISOString();
    expect(result).toMatchObject({
      kind: 'certificate',
      name: PARTNER_CERTIFICATE_NAME,
      expiresOn: validTo,
      problems: [],
      proof: { status: 'ok', tenantId: stack.env.PARTNER_TENANT_ID },
    });
    expect(result.daysLeft).toBeGreaterThanOrEqual(363);
    expect(result.version).toMatch(/^[0-9a-f]{32}$/);
    // The private key never reaches the output.
    expect(check.stdout + check.stderr).not.toContain('PRIVATE KEY');
  });

  it('collects every tenant with client assertions, and records the certificate and expiry on the Runs row', async () => {
    const summary = await runCollection(services.runDeps(), { trigger: 'test' });
    expect(summary.tenants.map((t) => t.status)).toEqual(TENANTS.map(() => 'ok'));
    const row = await services.runs.get(summary.runId, summary.startedAt);
    expect(row?.credential).toMatchObject({ kind: 'certificate', name: PARTNER_CERTIFICATE_NAME });
    expect(row?.credential?.expiresOn).toBe((await services.entraTokens.describeCredential()).expiresOn);
    for (const t of TENANTS)
      expect(ndjson((await cli('incidents', 'export', '--tenant', t)).stdout)).toHaveLength(INCIDENTS);
  });

  it('a certificate Entra does not know fails every tenant with AADSTS700027, and recovers once registered', async () => {
    const unknown = await createPartnerCertificate('unregistered');
    stack.keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, unknown.pem, unknown.certPem);
    await expectEveryTenantRefused(cli, 'AADSTS700027');
    stack.entra.registerCertificate(unknown.certPem);
    registered.push(stack.partnerCertificate?.certPem ?? '', unknown.certPem);
    await expectEveryTenantCollected(cli);
  });

  it('a certificate rotated mid-run (PKCS#12) is picked up without a restart and loses nothing', async () => {
    // Tokens shorter-lived than MSAL's 5-minute refresh margin: every tenant asks Entra again in the next run, as
    // it would an hour later in production.
    stack.entra.setTokenLifetime(60);
    const running = createServices(loadSettings(env), { logger: silentLogger, env });
    await running.ready();
    const first = await runCollection(running.runDeps(), { trigger: 'test' });
    expect(first.tenants.map((t) => t.status)).toEqual(TENANTS.map(() => 'ok'));
    const before = await running.entraTokens.describeCredential();

    // Rotation: the vault gets a new version (PKCS#12 this time), Entra trusts only the new certificate.
    const rotated = await createPartnerCertificate('rotated');
    stack.keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, toPkcs12Base64(rotated), rotated.certPem, {
      contentType: 'application/x-pkcs12',
    });
    stack.entra.registerCertificate(rotated.certPem);
    for (const old of await registeredBefore()) stack.entra.removeCertificate(old);
    const readsBefore = stack.keyVault.reads;
    const second = await runCollection(running.runDeps(), { trigger: 'test' });
    expect(second.tenants.map((t) => t.status)).toEqual(TENANTS.map(() => 'ok'));
    // One shared re-read after the refusal, not one per tenant.
    expect(stack.keyVault.reads - readsBefore).toBe(1);
    const after = await running.entraTokens.describeCredential();
    expect(after.version).not.toBe(before.version);
    expect(after.expiresOn).toBe(new Date(new X509(rotated.certPem).validTo).toISOString());
    for (const t of TENANTS)
      expect(ndjson((await cli('incidents', 'export', '--tenant', t)).stdout)).toHaveLength(INCIDENTS);
    stack.entra.setTokenLifetime(3599);
  });

  it('a certificate expiring within 30 days is reported by credentials check', async () => {
    const soon = await createPartnerCertificate('soon', 10);
    stack.keyVault.setCertificate(PARTNER_CERTIFICATE_NAME, soon.pem, soon.certPem);
    stack.entra.registerCertificate(soon.certPem);
    const result = JSON.parse((await cli('credentials', 'check', '--json')).stdout) as CheckJson;
    expect(result.daysLeft).toBe(9);
    expect(result.problems.map((p) => p.code)).toEqual(['CREDENTIAL_EXPIRING']);
    expect(result.proof.status).toBe('ok');
  });
});

describe('federated credential (managed identity as client assertion)', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: TENANTS.map((tenantId) => ({ tenantId, incidents: INCIDENTS })),
      credential: 'federated',
    });
    stack.trustInProcess();
    // The Azure SDK's ManagedIdentityCredential reads the platform's variables from process.env, as in Functions.
    for (const name of ['IDENTITY_ENDPOINT', 'IDENTITY_HEADER']) {
      saved[name] = process.env[name];
      process.env[name] = stack.env[name];
    }
    // No secret anywhere: neither the vault URL nor a secret is configured.
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
    delete env.KEY_VAULT_URL;
    for (const t of TENANTS) expect((await cli('tenants', 'add', t)).code).toBe(0);
  });

  afterAll(async () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await stack?.stop();
  });

  it('credentials check proves the federated credential with no expiry to track', async () => {
    const check = await cli('credentials', 'check', '--json');
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({
      kind: 'federated',
      version: 'federated',
      expiresOn: null,
      daysLeft: null,
      problems: [],
      proof: { status: 'ok' },
    });
    expect(stack.entra.managedIdentityTokens).toBeGreaterThan(0);
  });

  it('collects every tenant with the managed identity token as assertion', async () => {
    await expectEveryTenantCollected(cli);
    for (const t of TENANTS)
      expect(ndjson((await cli('incidents', 'export', '--tenant', t)).stdout)).toHaveLength(INCIDENTS);
  });

  it('a federated credential for another subject fails every tenant with AADSTS70021, and recovers once fixed', async () => {
    const mi = stack.managedIdentity;
    if (!mi) throw new Error('the stack has no managed identity');
    stack.entra.clearFederatedCredentials();
    const fic = { issuer: stack.entra.homeIssuer, audience: 'api://AzureADTokenExchange' };
    stack.entra.addFederatedCredential({ ...fic, subject: '00000000-0000-4000-8000-0000000000ff' });
    await expectEveryTenantRefused(cli, 'AADSTS70021');
    stack.entra.addFederatedCredential({ ...fic, subject: mi.principalId });
    await expectEveryTenantCollected(cli);
  });
});
