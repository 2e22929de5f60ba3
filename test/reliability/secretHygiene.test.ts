/**
 * Secret hygiene: faults, a wrong partner secret, a killed child CLI — then every log line, error message, child
 * output, export line and raw table row is scanned for the partner secret, the vault reader's secret and every
 * token Entra issued: 0 hits. Includes a check that the scanner does find a planted value (it can fail).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FAULTS } from '../../scripts/reliability/faultCatalogue.js';
import { runFaultCase, type MatrixOptions } from '../../scripts/reliability/faultMatrix.js';
import { killMidTenant } from '../../scripts/reliability/killMidTenant.js';
import { scanForSecrets } from '../../scripts/reliability/secretHygiene.js';
import { SecretScanner } from '../../scripts/reliability/secretScanner.js';
import { captureIssuedTokens } from '../../scripts/reliability/simHooks.js';
import { TenantAllocator } from '../../scripts/reliability/tenantAllocator.js';
import { collectorProcess } from '../../scripts/reliability/collectorServices.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import { PARTNER_SECRET_NAME, startLocalStack, type LocalStack } from '../../devstack/stack.js';

describe('secret hygiene', () => {
  let stack: LocalStack;
  const tokens = new Set<string>();

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [] });
    stack.trustInProcess();
    captureIssuedTokens(stack.entra, tokens);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('the scanner finds a planted secret (so 0 hits means something)', () => {
    const scanner = new SecretScanner();
    scanner.add('planted-secret-value-123', 'partner secret');
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
    scanner.add(token, 'token');
    scanner.scan('{"message":"failed with planted-secret-value-123"}', 'log line');
    scanner.scan(`Authorization: Bearer ${token}`, 'log line');
    scanner.scan(`cut: ${token.slice(token.lastIndexOf('.'))}`, 'log line');
    scanner.scan('nothing here. eyJ', 'log line');
    expect(scanner.hits.map((h) => h.secret)).toEqual(['partner secret', 'token', 'token']);
  });

  it('0 secrets or tokens in logs, errors, child output, exports and table rows', async () => {
    const allocator = new TenantAllocator(stack, '5ec17000');
    const options: MatrixOptions = {
      stack,
      allocator,
      sources: ['graph'],
      points: [1],
      modes: ['persistent'],
      incidentsPerTenant: 60,
      bystanders: 1,
      logLines: [],
      messages: [],
    };
    for (const name of ['API 500', 'Token endpoint 503', 'API truncated JSON']) {
      await runFaultCase(
        options,
        FAULTS.find((f) => f.name === name)!,
        'graph',
        1,
        'persistent',
      );
    }
    const childOutput: string[] = [];
    await killMidTenant({
      stack,
      allocator,
      source: 'graph',
      incidents: 60,
      killAtPage: 1,
      repoRoot: process.cwd(),
      logLines: options.logLines,
      childOutput,
    });

    // A wrong partner secret in Key Vault: every tenant fails with AADSTS7000215; the value must not surface.
    const wrong = 'Zq9~wrong-partner-secret-value-0123456789';
    stack.keyVault.setSecret(PARTNER_SECRET_NAME, wrong);
    const [t] = allocator.allocate(1, 5) as [string];
    const proc = await collectorProcess({ env: { ...stack.env, SYNC_LAG_SECONDS: '0' }, logLines: options.logLines });
    await TenantAllocator.register(proc.services.tenants, [t]);
    const run = await runCollection(proc.runDeps, { trigger: 'reliability', tenantIds: [t] });
    expect(run.tenants[0]?.error?.code).toBe('AADSTS7000215');
    options.messages.push(...run.tenants.flatMap((r) => (r.error ? [r.error.message] : [])));
    stack.keyVault.setSecret(PARTNER_SECRET_NAME, stack.partnerSecret);

    const figures = await scanForSecrets({
      stack,
      tokens,
      extraSecrets: [wrong],
      logLines: options.logLines,
      messages: options.messages,
      childOutput,
    });
    expect(figures.tokensKnown).toBeGreaterThan(5);
    expect(figures.textsScanned).toBeGreaterThan(100);
    expect(figures.hitPlaces).toEqual([]);
  });
});
