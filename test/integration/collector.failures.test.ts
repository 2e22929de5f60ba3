/**
 * Failures stay with their tenant (design §7): consent revoked, missing role, a token for another tenant, and a
 * rotated partner secret picked up without a restart. Real adapters against Azurite and the simulators.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { silentLogger } from '../../shared/log.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { addTenant } from '../../shared/usecases/tenants.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';

const OK = '1b000000-0000-4000-8000-000000000001';
const REVOKED = '1b000000-0000-4000-8000-000000000002';
const NO_ROLE = '1b000000-0000-4000-8000-000000000003';
const WRONG_TID = '1b000000-0000-4000-8000-000000000004';
const LATE = '1b000000-0000-4000-8000-000000000005';

describe('tenant failures (graph)', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [OK, REVOKED, NO_ROLE, WRONG_TID, LATE].map((tenantId) => ({ tenantId, incidents: 8 })),
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
    for (const t of [OK, REVOKED, NO_ROLE, WRONG_TID]) expect((await cli('tenants', 'add', t)).code).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('a revoked, a role-less and a mismatched tenant fail alone; the others are collected (exit 1)', async () => {
    stack.entra.setTenantConsent(REVOKED, 'revoked');
    stack.entra.setTenantRoles(NO_ROLE, []);
    stack.entra.issueTokensFor(WRONG_TID, OK);
    const graphCallsBefore = stack.graph.requests.length;

    const run = await cli('collect', '--json');
    expect(run.code).toBe(1);
    const results = new Map(
      (
        JSON.parse(run.stdout) as {
          tenants: { tenantId: string; status: string; pages: number; error?: { code: string } }[];
        }
      ).tenants.map((t) => [t.tenantId, t]),
    );
    expect(results.get(OK)?.status).toBe('ok');
    expect(results.get(REVOKED)).toMatchObject({ status: 'failed', error: { code: 'AADSTS700016' } });
    expect(results.get(NO_ROLE)).toMatchObject({ status: 'failed', error: { code: 'MISSING_ROLE' } });
    expect(results.get(WRONG_TID)).toMatchObject({ status: 'failed', error: { code: 'TOKEN_TENANT_MISMATCH' } });

    const tenants = new Map(
      (
        JSON.parse((await cli('tenants', 'list', '--json')).stdout) as {
          tenantId: string;
          status: string;
          lastErrorCode: string | null;
        }[]
      ).map((t) => [t.tenantId, t]),
    );
    expect(tenants.get(OK)?.status).toBe('active');
    expect(tenants.get(REVOKED)).toMatchObject({ status: 'consent_revoked', lastErrorCode: 'AADSTS700016' });
    expect(tenants.get(NO_ROLE)).toMatchObject({ status: 'missing_permissions', lastErrorCode: 'MISSING_ROLE' });
    expect(tenants.get(WRONG_TID)).toMatchObject({
      status: 'credential_error',
      lastErrorCode: 'TOKEN_TENANT_MISMATCH',
    });

    // Nothing was written for the mismatched tenant, and only the good tenant's data was fetched.
    expect(ndjson((await cli('incidents', 'export', '--tenant', WRONG_TID)).stdout)).toHaveLength(0);
    expect(ndjson((await cli('incidents', 'export', '--tenant', OK)).stdout)).toHaveLength(8);
    // The API saw only the good tenant's page requests: the mismatched token (whose tid is OK's) was refused
    // by the collector before any call, and so was the role-less one.
    expect(stack.graph.requests.length - graphCallsBefore).toBe(results.get(OK)?.pages);

    // A consent_revoked tenant is skipped by the next run (re-probed only after REPROBE_HOURS).
    const next = await cli('collect', '--json', '--tenant', REVOKED);
    expect((JSON.parse(next.stdout) as { tenants: { status: string }[] }).tenants[0]?.status).toBe('skipped');
    expect(next.code).toBe(0);
  });

  it('a rotated secret in Key Vault is picked up without a restart', async () => {
    const services = createServices(loadSettings(env), { logger: silentLogger, env });
    await services.ready();
    const first = await runCollection(services.runDeps(), { trigger: 'test', tenantIds: [OK] });
    expect(first.tenants[0]?.status).toBe('ok');

    // Rotate: the vault gets a new version, Entra accepts only the new value from now on.
    const rotated = 'rotated-secret-value-2c8f1e';
    stack.keyVault.setSecret(stack.env.PARTNER_SECRET_NAME as string, rotated);
    stack.entra.acceptSecrets(rotated);
    stack.entra.expireSecret(stack.partnerSecret);

    // Same process, same services: a tenant needing a fresh token gets it with the new secret.
    const added = await addTenant(services.tenantDeps(), { tenantId: LATE, verify: true });
    expect(added.failure).toBeUndefined();
    expect(added.tenant.status).toBe('active');
    const second = await runCollection(services.runDeps(), { trigger: 'test', tenantIds: [LATE] });
    expect(second.tenants[0]).toMatchObject({ status: 'ok', incidentsChanged: 8 });
  });

  it('a bad partner secret stops the run: every due tenant is credential_error, Entra is not asked for each', async () => {
    // Entra no longer accepts the vault's secret (it expired), and the vault has nothing newer.
    stack.entra.expireSecret('rotated-secret-value-2c8f1e');
    const tokenCallsBefore = stack.entra.tokenRequests().length;
    const run = await runCli(['collect', '--json'], { ...env, TENANT_CONCURRENCY: '1' });
    expect(run.code).toBe(1);
    const results = (
      JSON.parse(run.stdout) as { tenants: { tenantId: string; status: string; error?: { code: string } }[] }
    ).tenants;
    const failed = results.filter((r) => r.status === 'failed');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(failed.every((r) => r.error?.code === 'AADSTS7000222')).toBe(true);
    // Tenants the run skips anyway (consent revoked, role missing, not due for a re-probe) keep their status.
    expect(results.find((r) => r.tenantId === REVOKED)?.status).toBe('skipped');
    const partnerCalls = stack.entra
      .tokenRequests()
      .slice(tokenCallsBefore)
      .filter((r) => r.clientId === env.PARTNER_CLIENT_ID);
    expect(partnerCalls.length).toBeLessThanOrEqual(2);
    const tenants = new Map(
      (JSON.parse((await cli('tenants', 'list', '--json')).stdout) as { tenantId: string; status: string }[]).map(
        (t) => [t.tenantId, t.status],
      ),
    );
    for (const r of failed) expect(tenants.get(r.tenantId)).toBe('credential_error');
    expect(tenants.get(REVOKED)).toBe('consent_revoked');
  });
});
