/**
 * `incident-collector status [--json]` on the local stack (design §11): the same health as `GET /api/health`, the
 * tenants that need action with the exact command that fixes them, exit 0 while healthy or degraded and 1 when
 * unhealthy (here: the newest run found the partner credential refused).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PARTNER_SECRET_NAME, startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { runCli } from '../../devstack/cli.js';

const A = '5a000000-0000-4000-8000-00000000000a';
const B = '5a000000-0000-4000-8000-00000000000b';

interface StatusJson {
  status: string;
  lastRun: { runId: string; ok: number; failed: number } | null;
  tenants: Record<string, number>;
  coverage: number | null;
  problems: { code: string; message: string }[];
  needsAction: { tenantId: string; status: string; problem: string; fix: string; commands: string[] }[];
}

describe('incident-collector status', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const statusJson = async () => {
    const r = await cli('status', '--json');
    return { code: r.code, body: JSON.parse(r.stdout) as StatusJson, stderr: r.stderr };
  };

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [
        { tenantId: A, incidents: 4 },
        { tenantId: B, incidents: 2, consent: 'none' },
      ],
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('before any run: degraded NO_RUN_YET, exit 0, nothing to act on', async () => {
    const { code, body } = await statusJson();
    expect(code).toBe(0);
    expect(body).toMatchObject({ status: 'degraded', lastRun: null, coverage: null, needsAction: [] });
    expect(body.problems.map((p) => p.code)).toEqual(['NO_RUN_YET']);
  });

  it('after a run: the tenant awaiting consent is listed with its consent-link command; text names the fix', async () => {
    expect((await cli('tenants', 'add', A, '--name', 'Alpha')).code).toBe(0);
    expect((await cli('tenants', 'add', B, '--name', 'Beta')).code).toBe(1); // pending_consent, AADSTS65001
    expect((await cli('collect')).code).toBe(0);

    const { code, body } = await statusJson();
    expect(code).toBe(0);
    expect(body.status).toBe('healthy'); // the stack's secret has no expiry: informational only
    expect(body.problems.map((p) => p.code)).toEqual(['CREDENTIAL_EXPIRY_UNKNOWN']);
    expect(body.lastRun).toMatchObject({ ok: 1, failed: 0 });
    expect(body.coverage).toBe(1);
    expect(body.tenants).toMatchObject({ active: 1, pending_consent: 1 });
    expect(body.needsAction).toEqual([
      expect.objectContaining({
        tenantId: B,
        status: 'pending_consent',
        problem: expect.stringContaining('has not granted admin consent'),
        commands: [`incident-collector consent-link --tenant ${B}`],
      }),
    ]);

    const text = await cli('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^Health: healthy \(checked /);
    expect(text.stdout).toContain(`${B} (Beta): pending_consent since `);
    expect(text.stdout).toContain(`  $ incident-collector consent-link --tenant ${B}`);
  });

  it('a revoked consent degrades it (exit 0); a refused partner credential makes it unhealthy (exit 1)', async () => {
    stack.entra.setTenantConsent(A, 'revoked');
    expect((await cli('collect')).code).toBe(1);
    const revoked = await statusJson();
    expect(revoked.code).toBe(0);
    expect(revoked.body.status).toBe('degraded');
    expect(revoked.body.problems.map((p) => p.code)).toContain('TENANTS_CONSENT_REVOKED');
    expect(revoked.body.needsAction.find((a) => a.tenantId === A)).toMatchObject({
      status: 'consent_revoked',
      commands: [`incident-collector consent-link --tenant ${A}`],
    });

    stack.entra.setTenantConsent(A, 'granted');
    await cli('tenants', 'enable', A);
    stack.keyVault.setSecret(PARTNER_SECRET_NAME, 'not-the-partner-secret-0000');
    expect((await cli('collect')).code).toBe(1);
    const refused = await statusJson();
    expect(refused.code).toBe(1);
    expect(refused.body.status).toBe('unhealthy');
    expect(refused.body.problems[0]).toMatchObject({ code: 'PARTNER_CREDENTIAL_REJECTED' });
    expect(refused.body.needsAction.find((a) => a.tenantId === A)).toMatchObject({
      status: 'credential_error',
      commands: ['incident-collector credentials check'],
    });
    expect(JSON.stringify(refused.body)).not.toContain('not-the-partner-secret');
  });
});
