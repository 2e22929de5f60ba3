/**
 * CLI conventions on the local stack (issue 12): `--json` prints one JSON value on stdout for the commands that
 * gained it (messages stay on stderr, and the output without `--json` is unchanged), and `incidents export` shows
 * its progress on stderr only when stderr is a terminal.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { ndjson, runCli } from '../../devstack/cli.js';
import { streamIo } from '../../shared/cli/io.js';
import { main } from '../../shared/cli/run.js';

const A = '2d000000-0000-4000-8000-00000000000a';
const B = '2d000000-0000-4000-8000-00000000000b';

function parsed(r: { code: number; stdout: string; stderr: string }): Record<string, unknown> {
  expect(r.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('--json on every command that prints something', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);

  beforeAll(async () => {
    stack = await startLocalStack({
      tenants: [
        { tenantId: A, incidents: 4 },
        { tenantId: B, incidents: 1, consent: 'none' },
      ],
    });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('tenants add / disable / enable / set-source / remove', async () => {
    const added = await cli('tenants', 'add', A, '--name', 'Alpha', '--json');
    expect(added.code).toBe(0);
    expect(parsed(added)).toMatchObject({
      tenant: { tenantId: A, displayName: 'Alpha', status: 'active' },
      error: null,
    });
    expect(added.stderr).toContain('is active');

    const pending = await cli('tenants', 'add', B, '--json');
    expect(pending.code).toBe(1);
    expect(parsed(pending)).toMatchObject({
      tenant: { tenantId: B, status: 'pending_consent' },
      error: { code: 'AADSTS65001' },
    });

    expect(parsed(await cli('tenants', 'disable', A, '--json'))).toMatchObject({ tenant: { status: 'disabled' } });
    expect(parsed(await cli('tenants', 'enable', A, '--json'))).toMatchObject({
      tenant: { status: 'active' },
      error: null,
    });
    expect(parsed(await cli('tenants', 'set-source', A, 'graph', '--json'))).toMatchObject({
      tenant: { tenantId: A, source: 'graph' },
    });
    expect(parsed(await cli('tenants', 'remove', B, '--json'))).toEqual({ tenantId: B, removed: true, purged: false });
    // Without --json the output is as before: nothing on stdout.
    expect((await cli('tenants', 'disable', A)).stdout).toBe('');
    expect((await cli('tenants', 'enable', A)).code).toBe(0);
  });

  it('history prune --json prints the counts; without --json a table', async () => {
    const r = await runCli(['history', 'prune', '--json', '--dry-run'], { ...env, HISTORY_RETENTION_DAYS: '30' });
    expect(r.code).toBe(0);
    expect(parsed(r)).toMatchObject({
      dryRun: true,
      versionsRemoved: expect.any(Number),
      eventsRemoved: expect.any(Number),
      chunksRemoved: expect.any(Number),
      kept: { latest: expect.any(Number), undelivered: expect.any(Number) },
      failed: [],
    });
    const text = await cli('history', 'prune');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^CUTOFF\s+none/m);
    expect(text.stderr).toContain('HISTORY_RETENTION_DAYS is 0');
  });

  it('subscriptions remove / enable / replay', async () => {
    const added = parsed(await cli('subscriptions', 'add', '--url', 'https://receiver.example/hook', '--json'));
    const id = String(added.id);
    expect(parsed(await cli('subscriptions', 'enable', id, '--json'))).toEqual({ id, status: 'active' });
    expect(parsed(await cli('subscriptions', 'replay', id, '--tenant', A, '--json'))).toMatchObject({
      subscriptionId: id,
      tenants: [{ tenantId: A, fromSequence: 0 }],
      deadLettersRequeued: 0,
    });
    expect(parsed(await cli('subscriptions', 'remove', id, '--json'))).toEqual({ id, removed: true });
  });

  it('incidents export: progress on a terminal stderr, NDJSON alone on stdout; no progress when not a terminal', async () => {
    expect((await cli('collect', '--tenant', A, '--no-deliver')).code).toBe(0);
    const sink = (isTTY: boolean) => {
      let text = '';
      const stream = new Writable({
        write(chunk: Buffer, _e, done) {
          text += chunk.toString();
          done();
        },
      }) as Writable & { isTTY?: boolean };
      if (isTTY) stream.isTTY = true;
      return { stream, text: () => text };
    };
    const out = sink(false);
    const err = sink(true);
    expect(await main(['incidents', 'export', '--tenant', A], streamIo(out.stream, err.stream), env)).toBe(0);
    const lines = ndjson(out.text());
    expect(lines).toHaveLength(4);
    expect(err.text()).toContain(`\r4 snapshots exported\n`);
    expect(out.text()).not.toContain('exported');

    const plainErr = sink(false);
    expect(await main(['incidents', 'export', '--tenant', A], streamIo(sink(false).stream, plainErr.stream), env)).toBe(
      0,
    );
    expect(plainErr.text()).not.toContain('\r');
  });
});
