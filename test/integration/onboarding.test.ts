/**
 * Onboarding at scale (issue 14) through the real CLI against Azurite and the simulators: `consent-link --from-csv`
 * (links valid up to 30 days, GUID rows registered pending_consent with their link's expiry), `tenants list
 * --status`, new links for expired pending tenants with one command, bad input naming the flag, and the consent
 * success page in plain words.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../devstack/cli.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { renderConsentPage } from '../../functions/http/consentPage.js';
import { silentLogger } from '../../shared/log.js';
import { renewExpiredLinks, type IssuedLink } from '../../shared/usecases/onboarding.js';

const A = '6f000000-0000-4000-8000-0000000000a1';
const B = '6f000000-0000-4000-8000-0000000000b2';
const DAY_MS = 86_400_000;

describe('onboarding at scale', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  let dir: string;
  const cli = (...argv: string[]) => runCli(argv, env);

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
    env = { ...stack.env, INCIDENT_SOURCE: 'auto' };
    dir = await mkdtemp(path.join(os.tmpdir(), 'onboarding-'));
  });

  afterAll(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('consent-link --from-csv makes one link per row and registers each GUID row pending_consent with its expiry', async () => {
    const file = path.join(dir, 'customers.csv');
    await writeFile(
      file,
      `tenant,name\r\n${A.toUpperCase()},"Alpha, Inc."\r\n\r\nfabrikam.onmicrosoft.com,Fabrikam\r\n${B},\r\n`,
    );
    const r = await cli('consent-link', '--from-csv', file, '--valid-days', '30', '--json');
    expect(r.code).toBe(0);
    const links = JSON.parse(r.stdout) as IssuedLink[];
    expect(links.map((l) => [l.tenant, l.displayName, l.tenantId, l.status])).toEqual([
      [A, 'Alpha, Inc.', A, 'pending_consent'],
      ['fabrikam.onmicrosoft.com', 'Fabrikam', null, null],
      [B, B, B, 'pending_consent'],
    ]);
    for (const l of links) {
      const url = new URL(l.url);
      expect(url.pathname).toBe(`/${l.tenant}/v2.0/adminconsent`);
      expect(url.searchParams.get('scope')).toBe(`${new URL(stack.graph.url).origin}/.default`);
      // Bulk links live 30 days (design §8), not 24 hours.
      expect(Date.parse(l.expiresAt)).toBeGreaterThan(Date.now() + 29 * DAY_MS);
    }
    expect(new Set(links.map((l) => new URL(l.url).searchParams.get('state'))).size).toBe(3);

    const pending = JSON.parse((await cli('tenants', 'list', '--json', '--status', 'pending_consent')).stdout) as {
      tenantId: string;
      consentLinkExpiresAt: string | null;
    }[];
    expect(pending.map((t) => [t.tenantId, t.consentLinkExpiresAt]).sort()).toEqual(
      links
        .filter((l) => l.tenantId !== null)
        .map((l) => [l.tenantId, l.expiresAt])
        .sort(),
    );
    expect(JSON.parse((await cli('tenants', 'list', '--json', '--status', 'active')).stdout)).toEqual([]);

    const csv = await cli('consent-link', '--from-csv', file);
    expect(csv.stdout.split('\n')[0]).toBe('tenant,displayName,tenantId,status,url,expiresAt');
    expect(csv.stdout).toContain(`${A},"Alpha, Inc.",${A},pending_consent,https://`);
  });

  it('refuses bad input with exit 2, naming the flag (and the line)', async () => {
    const bad = path.join(dir, 'bad.csv');
    await writeFile(bad, `${A},Alpha\nnot a tenant,Nope\n`);
    const r = await cli('consent-link', '--from-csv', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--from-csv line 2');
    expect((await cli('consent-link', '--from-csv', bad, '--valid-days', '31')).stderr).toContain('--valid-days');
    expect((await cli('consent-link', '--from-csv', path.join(dir, 'missing.csv'))).code).toBe(2);
    expect((await cli('consent-link', '--expired', '--tenant', A)).code).toBe(2);
  });

  it('a pending tenant whose link expired gets a new one with one command; fresh ones are left alone', async () => {
    expect(JSON.parse((await cli('consent-link', '--expired', '--json')).stdout)).toEqual([]);
    // 31 days later (injected clock): both pending tenants' links have expired.
    const later = createServices(loadSettings(env), {
      clock: { now: () => new Date(Date.now() + 31 * DAY_MS) },
      logger: silentLogger,
      env,
    });
    const renewed = await renewExpiredLinks({ consentLink: later.consentLinkDeps(), tenants: later.tenants });
    expect(renewed.map((l) => l.tenantId).sort()).toEqual([A, B]);
    const byId = new Map(
      (
        JSON.parse((await cli('tenants', 'list', '--json')).stdout) as {
          tenantId: string;
          consentLinkExpiresAt: string;
        }[]
      ).map((t) => [t.tenantId, t.consentLinkExpiresAt]),
    );
    for (const l of renewed) expect(byId.get(l.tenantId as string)).toBe(l.expiresAt);
  });

  it('the consent success page says in plain words what the partner can read and how to revoke it', () => {
    const page = renderConsentPage({
      ok: true,
      reconsented: false,
      tenant: { tenantId: A, displayName: 'Alpha', status: 'active', consecutiveFailures: 0 },
    });
    expect(page.status).toBe(200);
    expect(page.body).toContain('security incidents');
    expect(page.body).toContain('read-only');
    expect(page.body).toMatch(/How to revoke it: .*Enterprise applications/);
  });
});
