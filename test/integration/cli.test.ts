/**
 * The CLI contract (design §5): exit codes, stdout/stderr split, tenant lifecycle, consent-link.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';

const A = '2c000000-0000-4000-8000-00000000000a';
const B = '2c000000-0000-4000-8000-00000000000b';
const UNKNOWN = '2c000000-0000-4000-8000-0000000000ff';

interface TenantJson {
  tenantId: string;
  displayName: string;
  status: string;
  watermark: string | null;
  consentedAt: string | null;
  lastErrorCode: string | null;
}

describe('incident-collector CLI', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const tenants = async () =>
    new Map((JSON.parse((await cli('tenants', 'list', '--json')).stdout) as TenantJson[]).map((t) => [t.tenantId, t]));

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [
        { tenantId: A, incidents: 6 },
        { tenantId: B, incidents: 3, consent: 'none' },
      ],
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('with no tenants: collect exits 0 with a message on stderr', async () => {
    const r = await cli('collect');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/No tenants registered/);
    expect(r.stdout).toBe('');
  });

  it('usage and configuration errors exit 2 and name the flag or setting', async () => {
    expect((await cli('collect', '--since', 'yesterday')).code).toBe(2);
    expect((await cli('collect', '--since', 'yesterday')).stderr).toContain('--since');
    expect((await cli('collect', '--tenant', 'not-a-guid')).stderr).toContain('--tenant');
    expect((await cli('collect', '--tenant', UNKNOWN)).code).toBe(2);
    expect((await cli('tenants', 'remove', UNKNOWN)).code).toBe(2);
    expect((await cli('tenants', 'disable', UNKNOWN)).code).toBe(2);
    expect((await cli('tenants', 'frobnicate')).code).toBe(2);
    expect((await cli('nonsense')).code).toBe(2);
    const noStorage = await runCli(['tenants', 'list'], { ...env, AzureWebJobsStorage: '' });
    expect(noStorage.code).toBe(2);
    expect(noStorage.stderr).toContain('AzureWebJobsStorage');
    const noClient = await runCli(['collect'], { ...env, PARTNER_CLIENT_ID: '' });
    expect(noClient.code).toBe(2);
    expect(noClient.stderr).toContain('PARTNER_CLIENT_ID');
  });

  it('tenants add verifies: a consented tenant is active, one never consented is pending_consent (exit 1)', async () => {
    const ok = await cli('tenants', 'add', A.toUpperCase(), '--name', 'Alpha');
    expect(ok.code).toBe(0);
    const pending = await cli('tenants', 'add', B, '--name', 'Beta');
    expect(pending.code).toBe(1);
    const t = await tenants();
    expect(t.get(A)).toMatchObject({ displayName: 'Alpha', status: 'active' });
    expect(t.get(B)).toMatchObject({ displayName: 'Beta', status: 'pending_consent', lastErrorCode: 'AADSTS65001' });
  });

  it('re-adding keeps the checkpoint; a disabled tenant stays disabled; enable re-verifies', async () => {
    expect((await cli('collect', '--tenant', A)).code).toBe(0);
    const watermark = (await tenants()).get(A)?.watermark;
    expect(watermark).toBeTruthy();
    expect((await cli('tenants', 'add', A, '--name', 'Alpha Renamed')).code).toBe(0);
    expect((await tenants()).get(A)).toMatchObject({ displayName: 'Alpha Renamed', watermark });

    expect((await cli('tenants', 'disable', A)).code).toBe(0);
    expect((await cli('tenants', 'add', A)).code).toBe(0);
    expect((await tenants()).get(A)?.status).toBe('disabled');
    const skipped = await cli('collect', '--json', '--tenant', A);
    expect((JSON.parse(skipped.stdout) as { tenants: { status: string }[] }).tenants[0]?.status).toBe('skipped');

    expect((await cli('tenants', 'enable', A)).code).toBe(0);
    expect((await tenants()).get(A)).toMatchObject({ status: 'active', watermark });
  });

  it('collect --json lists only the named tenants and prints JSON alone on stdout', async () => {
    const r = await cli('collect', '--json', '--tenant', A);
    const json = JSON.parse(r.stdout) as {
      runId: string;
      startedAt: string;
      finishedAt: string;
      tenants: { tenantId: string }[];
    };
    expect(json.tenants.map((t) => t.tenantId)).toEqual([A]);
    expect(json.runId).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
    expect(Date.parse(json.finishedAt)).toBeGreaterThanOrEqual(Date.parse(json.startedAt));
  });

  it('consent-link prints the URL alone on stdout, bound to a GUID tenant or hinted by a domain', async () => {
    const withRedirect = { ...env, CONSENT_REDIRECT_URI: 'https://collector.example.com/api/consent/callback' };
    const r = await runCli(['consent-link', '--tenant', B], withRedirect);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const url = new URL(lines[0] as string);
    expect(url.pathname).toBe(`/${B}/v2.0/adminconsent`);
    expect(url.searchParams.get('client_id')).toBe(env.PARTNER_CLIENT_ID);
    expect(url.searchParams.get('scope')).toBe(`${new URL(env.GRAPH_ENDPOINT as string).origin}/.default`);
    expect(url.searchParams.get('redirect_uri')).toBe('https://collector.example.com/api/consent/callback');
    expect(url.searchParams.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const domain = new URL(
      (await runCli(['consent-link', '--tenant', 'contoso.onmicrosoft.com'], withRedirect)).stdout.trim(),
    );
    expect(domain.pathname).toBe('/contoso.onmicrosoft.com/v2.0/adminconsent');
    const orgs = new URL((await runCli(['consent-link'], withRedirect)).stdout.trim());
    expect(orgs.pathname).toBe('/organizations/v2.0/adminconsent');
    const missing = await runCli(['consent-link'], { ...env, CONSENT_REDIRECT_URI: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('CONSENT_REDIRECT_URI');
  });

  it('remove keeps incidents unless --purge', async () => {
    const before = ndjson((await cli('incidents', 'export', '--tenant', A)).stdout).length;
    expect(before).toBe(6);
    expect((await cli('tenants', 'remove', A)).code).toBe(0);
    expect(ndjson((await cli('incidents', 'export', '--tenant', A)).stdout)).toHaveLength(6);
    expect((await tenants()).has(A)).toBe(false);
    expect((await cli('tenants', 'add', A, '--no-verify')).code).toBe(0);
    expect((await cli('tenants', 'remove', A, '--purge')).code).toBe(0);
    expect(ndjson((await cli('incidents', 'export', '--tenant', A)).stdout)).toHaveLength(0);
    expect(ndjson((await cli('incidents', 'export', '--tenant', A, '--history')).stdout)).toHaveLength(0);
  });
});
