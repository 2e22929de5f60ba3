/**
 * The operator's status page in a real browser (design §11): Debian's Chromium driven by playwright-core, the page
 * served by the real `status` handler (real services on Azurite + simulators) through a tiny loopback HTTP server.
 * Checks what a person sees — the headline, the tenants needing action with their fix commands, the filter links —
 * an axe-core accessibility scan with no violations, a phone-size viewport without sideways scrolling, and
 * screenshots in test-output/screenshots/ (representative ones are committed in docs/screenshots/).
 *
 * Without Chromium at CHROMIUM_PATH (default /usr/bin/chromium) the suite is skipped with how to install it —
 * except when CI is set, where a missing browser is a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { collectTenant } from '../../functions/queue/collectTenant.js';
import { status } from '../../functions/http/status.js';
import { tenantCollect } from '../../functions/http/tenantCollect.js';
import { tenantCollectOutput } from '../../functions/queue/tenantCollectOutput.js';
import type { TenantCollectMessage } from '../../shared/usecases/planRun.js';
import { startHarness, type Harness } from '../functions/functionsHarness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** The launch flags of the brief: no sandbox (root in CI), no GPU, QUIC or background traffic. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SCREENSHOTS = path.resolve('test-output', 'screenshots');

const available = existsSync(CHROMIUM);
if (!available) {
  const how = `Chromium was not found at ${CHROMIUM}. Install it (Debian: apt-get install -y --no-install-recommends chromium) or set CHROMIUM_PATH.`;
  if (process.env.CI) throw new Error(`CI is set, so the status page's browser test may not be skipped. ${how}`);
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\nSTATUS PAGE BROWSER TEST SKIPPED (CI is not set).\n${how}\n${bar}\n\n`);
}
const suite = available ? describe : describe.skip;

const ACTIVE = Array.from({ length: 6 }, (_, i) => `7b000000-0000-4000-8000-0000000000a${i}`);
const FAILING = '7b000000-0000-4000-8000-0000000000f1';
const REVOKED = '7b000000-0000-4000-8000-0000000000c1';
const PENDING = '7b000000-0000-4000-8000-0000000000d1';
const LEGACY = '7b000000-0000-4000-8000-0000000000e1';

/** Serve `GET /api/status` from the real handler on 127.0.0.1 (any other path is a 404). */
async function serveStatus(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET' || url.pathname !== '/api/status') {
      res.writeHead(404).end();
      return;
    }
    const request = new HttpRequest({
      method: 'GET',
      url: url.toString(),
      query: Object.fromEntries(url.searchParams),
    });
    const context = new InvocationContext({ invocationId: 'browser', functionName: 'status', logHandler: () => {} });
    status(request, context).then(
      (answer) => {
        res.writeHead(answer.status ?? 200, answer.headers as Record<string, string>);
        res.end(String(answer.body ?? ''));
      },
      (error: unknown) => {
        res.writeHead(500).end(String(error));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/status` };
}

/** axe-core's violations on the page as `rule: target` lines (empty when it passes). */
async function axeViolations(page: Page, axeSource: string): Promise<string[]> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as { id: string; nodes: { target: string[] }[] }[];
  });
  return result.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')}`));
}

suite('status page in Chromium', () => {
  let h: Harness;
  let server: Server;
  let url: string;
  let userDataDir: string;
  let browser: BrowserContext;
  let axeSource: string;

  beforeAll(async () => {
    h = await startHarness({
      tenants: ACTIVE.map((tenantId, i) => ({ tenantId, displayName: `Customer ${i + 1}`, incidents: 2 })),
    });
    const now = new Date().toISOString();
    for (const [i, id] of ACTIVE.entries())
      await h.seedTenant(id, { displayName: `Customer ${i + 1}`, status: 'active', consentedAt: now });
    // One manual collect of the first tenant: a run to show.
    const context = h.context('tenantCollect');
    await tenantCollect(
      h.request({
        method: 'POST',
        path: `/api/tenants/${ACTIVE[0]}/collect`,
        params: { id: ACTIVE[0] as string },
        body: '',
      }),
      context,
    );
    const [message] = context.extraOutputs.get(tenantCollectOutput) as TenantCollectMessage[];
    await collectTenant(message, h.context('collectTenant', { dequeueCount: 1 }));
    await h.seedTenant(FAILING, {
      displayName: 'Fabrikam (failing)',
      status: 'failing',
      statusChangedAt: now,
      consecutiveFailures: 3,
      lastErrorCode: 'HTTP_503',
    });
    await h.seedTenant(REVOKED, {
      displayName: 'Northwind <Traders>',
      status: 'consent_revoked',
      consentedAt: now,
      statusChangedAt: now,
      lastErrorCode: 'AADSTS700016',
    });
    await h.seedTenant(PENDING, {
      displayName: 'Tailspin',
      status: 'pending_consent',
      statusChangedAt: now,
      consentLinkExpiresAt: '2026-01-01T00:00:00.000Z',
    });
    await h.seedTenant(LEGACY, { displayName: 'Wingtip', status: 'active', source: 'm365d', consentedAt: now });

    ({ server, url } = await serveStatus());
    axeSource = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    userDataDir = await mkdtemp(path.join(os.tmpdir(), 'status-chromium-'));
    await mkdir(SCREENSHOTS, { recursive: true });
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1280, height: 900 },
    });
  });

  afterAll(async () => {
    await browser?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h?.stop();
  });

  it('shows the headline, the tenants needing action with their commands, and every tenant; axe finds nothing', async () => {
    const page = await browser.newPage();
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    await expect(page.title()).resolves.toBe('Incident collector status: degraded');
    expect(await page.locator('h1').innerText()).toBe('Incident collector: degraded');
    expect(await page.locator('.facts').innerText()).toMatch(/Coverage: \d+\.\d % of collectable tenants/);

    const needs = page.locator('h2#needs-action + table tbody tr');
    expect(await page.locator('h2#needs-action').innerText()).toBe('Tenants that need action (4)');
    expect(await needs.count()).toBe(4);
    const first = await needs.nth(0).innerText();
    expect(first).toContain('Northwind <Traders>'); // escaped in HTML, shown as written
    expect(first).toContain(`incident-collector consent-link --tenant ${REVOKED}`);
    const commands = await page.locator('h2#needs-action + table code.cmd').allInnerTexts();
    expect(commands).toEqual([
      `incident-collector consent-link --tenant ${REVOKED}`,
      `incident-collector collect --tenant ${FAILING}`,
      `incident-collector consent-link --tenant ${PENDING}`,
      `incident-collector sources check --tenant ${LEGACY}`,
      `incident-collector tenants set-source ${LEGACY} graph`,
    ]);
    expect(await page.locator('#all-tenants').innerText()).toBe('All tenants (10)');
    expect(await page.locator('h2#runs + table tbody tr').count()).toBe(1);
    expect(await page.locator('h2#subscriptions + p').innerText()).toBe('No subscriptions.');

    expect(await axeViolations(page, axeSource)).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'status-desktop.png'), fullPage: true });
    await page.close();
  });

  it('the status filter link narrows the list to that status', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByRole('link', { name: 'failing (1)' }).click();
    await page.waitForURL(/status=failing/);
    expect(await page.locator('#all-tenants').innerText()).toBe('Tenants with status failing (1)');
    const rows = page.locator('h2#all-tenants + nav + table tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.nth(0).innerText()).toContain('Fabrikam (failing)');
    expect(await page.locator('nav [aria-current]').first().innerText()).toBe('failing (1)');
    await page.close();
  });

  it('on a phone-size screen: no sideways scrolling, rows as labelled cards, axe finds nothing', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(url);
    // Evaluated in the page as text: this project compiles without the DOM library.
    const widths = (await page.evaluate(
      '({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth })',
    )) as { scroll: number; viewport: number };
    expect(widths.scroll).toBeLessThanOrEqual(widths.viewport);
    const label = await page.evaluate(
      `getComputedStyle(document.querySelector('h2#needs-action + table tbody tr td:nth-child(5)'), '::before').content`,
    );
    expect(label).toBe('"Fix: "');
    expect(await axeViolations(page, axeSource)).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'status-phone.png') }); // the first screen
    await page.close();
  });
});
