/**
 * Delivery end to end on the local stack (Azurite + simulators + the webhook receiver), through the real CLI and
 * the real adapters (design §9): collect's end pass, `deliver --json` figures and exit codes, `subscriptions`
 * commands, 410 → disabled → enable, replay, the secret kept out of output, and two deliverers at once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../../devstack/cli.js';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import { createServices } from '../../../shared/composition.js';
import { loadSettings } from '../../../shared/config/settings.js';
import { silentLogger } from '../../../shared/log.js';
import { deliverPass } from '../../../shared/usecases/deliver.js';

const A = '3d000000-0000-4000-8000-00000000000a';

interface ListItem {
  id: string;
  kind: string;
  url?: string;
  filters: object;
  status: string;
  pending: number;
  deadLettered: number;
}

describe('delivery through the CLI on the local stack', () => {
  let stack: LocalStack;
  let env: Record<string, string>;
  const cli = (...argv: string[]) => runCli(argv, env);
  const list = async () => JSON.parse((await cli('subscriptions', 'list', '--json')).stdout) as ListItem[];

  beforeAll(async () => {
    stack = await startLocalStack({ tenants: [{ tenantId: A, incidents: 6 }] });
    stack.trustInProcess();
    env = { ...stack.env, SYNC_LAG_SECONDS: '0', DELIVERY_TIMEOUT_SECONDS: '5' };
    expect((await cli('tenants', 'add', A, '--no-verify')).code).toBe(0);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('add --json prints the generated secret once; bad input exits 2 naming the flag', async () => {
    const bad = await cli('subscriptions', 'add', '--url', 'http://receiver.example/hook');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--url');
    expect(
      (await cli('subscriptions', 'add', '--url', 'https://r.example/', '--min-severity', 'severe')).stderr,
    ).toContain('--min-severity');
    expect((await cli('subscriptions', 'remove', 'sub-00000000-0000-4000-8000-000000000000')).code).toBe(2);
    expect((await cli('subscriptions', 'enable', 'nope')).code).toBe(2);
  });

  it('collect delivers what it wrote (signed, verified, in sequence order); deliver then has nothing to do', async () => {
    const hook = stack.webhooks.addEndpoint();
    const added = await cli('subscriptions', 'add', '--url', hook.url, '--json');
    expect(added.code).toBe(0);
    const sub = JSON.parse(added.stdout) as { id: string; kind: string; url: string; secret: string; filters: object };
    expect(sub).toEqual({ id: sub.id, kind: 'webhook', url: hook.url, secret: sub.secret, filters: {} });
    stack.webhooks.setSecret(hook.path, sub.secret);

    const collected = await cli('collect', '--json');
    expect(collected.code).toBe(0);
    const received = stack.webhooks.to(hook.path);
    expect(received).toHaveLength(6);
    expect(received.every((d) => d.contentType === 'application/cloudevents+json; charset=utf-8')).toBe(true);
    const sequences = received.map((d) => d.event.data.sequence);
    expect(sequences).toEqual([...sequences].sort((x, y) => x - y));
    expect(new Set(received.map((d) => d.event.id)).size).toBe(6);
    expect(stack.webhooks.rejected.filter((r) => r.path === hook.path)).toEqual([]);

    const deliver = await cli('deliver', '--json');
    expect(deliver.code).toBe(0);
    expect(JSON.parse(deliver.stdout)).toEqual({ delivered: 0, failed: 0, deadLettered: 0, pending: 0 });

    const listed = await cli('subscriptions', 'list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([
      { id: sub.id, kind: 'webhook', url: hook.url, filters: {}, status: 'active', pending: 0, deadLettered: 0 },
    ]);
    for (const text of [listed.stdout, listed.stderr, collected.stdout, collected.stderr, deliver.stderr])
      expect(text).not.toContain(sub.secret.slice(6));
    expect((await cli('subscriptions', 'remove', sub.id)).code).toBe(0);
  });

  it('a failed attempt: deliver exits 1 with the figures; replay re-sends in order, the failed version included', async () => {
    const hook = stack.webhooks.addEndpoint();
    const sub = JSON.parse(
      (await cli('subscriptions', 'add', '--url', hook.url, '--secret', hook.secret, '--json')).stdout,
    ) as { id: string; secret?: string };
    expect(sub.secret).toBeUndefined(); // a given secret is never printed
    const incidentId = String(stack.world.graphIncidents(A)[0]?.id);
    stack.world.mutate(A, incidentId);
    expect((await cli('collect', '--no-deliver')).code).toBe(0);
    expect(stack.webhooks.to(hook.path)).toHaveLength(0);

    stack.webhooks.failNext(500, 1, hook.path);
    const failed = await cli('deliver', '--json');
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toEqual({ delivered: 0, failed: 1, deadLettered: 0, pending: 1 });
    expect((await list()).find((s) => s.id === sub.id)).toMatchObject({ pending: 1, deadLettered: 0 });

    // Replay from the start: the incident's older versions come first, then the one that failed.
    expect((await cli('subscriptions', 'replay', sub.id, '--tenant', A)).code).toBe(0);
    const replayed = await cli('deliver', '--json');
    expect(replayed.code).toBe(0);
    const versions = stack.webhooks
      .to(hook.path)
      .filter((d) => d.event.data.incidentId === incidentId)
      .map((d) => d.event.data.sequence);
    expect(versions.length).toBe(2);
    expect(versions).toEqual([...versions].sort((x, y) => x - y));
    expect((await list()).find((s) => s.id === sub.id)).toMatchObject({ pending: 0 });
    await cli('subscriptions', 'remove', sub.id);
  });

  it('410 disables the subscription (collect still exits 0); its events wait until enable', async () => {
    const hook = stack.webhooks.addEndpoint();
    const { id } = JSON.parse(
      (await cli('subscriptions', 'add', '--url', hook.url, '--secret', hook.secret, '--json')).stdout,
    ) as { id: string };
    const incidentId = String(stack.world.graphIncidents(A)[1]?.id);
    stack.world.mutate(A, incidentId);
    stack.webhooks.failNext(410, 1, hook.path);
    const collected = await cli('collect', '--json');
    expect(collected.code).toBe(0);
    expect((await list()).find((s) => s.id === id)).toMatchObject({ status: 'disabled' });

    stack.world.mutate(A, incidentId);
    expect((await cli('collect', '--no-deliver')).code).toBe(0);
    expect(JSON.parse((await cli('deliver', '--json')).stdout)).toMatchObject({ delivered: 0 });
    expect(stack.webhooks.to(hook.path)).toHaveLength(0);

    expect((await cli('subscriptions', 'enable', id)).code).toBe(0);
    const after = await cli('deliver', '--json');
    expect(JSON.parse(after.stdout)).toEqual({ delivered: 2, failed: 0, deadLettered: 0, pending: 0 });
    const seqs = stack.webhooks.to(hook.path).map((d) => d.event.data.sequence);
    expect(seqs).toHaveLength(2);
    expect(seqs[0]).toBeLessThan(seqs[1] as number);
    await cli('subscriptions', 'remove', id);
  });

  it("log-analytics: collect sends the new versions as rows to the stack's Logs Ingestion rule, in one call", async () => {
    const la = stack.logAnalytics;
    const added = await cli(
      'subscriptions',
      'add',
      '--log-analytics',
      '--endpoint',
      la.endpoint,
      '--rule',
      la.ruleId,
      '--stream',
      la.stream,
      '--json',
    );
    expect(added.code).toBe(0);
    const { id, kind } = JSON.parse(added.stdout) as { id: string; kind: string; secret?: string };
    expect(kind).toBe('log-analytics');
    const before = stack.logsIngestion.rows(la.ruleId, la.stream).length;
    const uploadsBefore = stack.logsIngestion.uploads.length;
    const incidents = stack.world.graphIncidents(A).slice(3, 5);
    for (const i of incidents) stack.world.mutate(A, String(i.id));
    expect((await cli('collect', '--json')).code).toBe(0);
    const rows = stack.logsIngestion.rows(la.ruleId, la.stream).slice(before);
    expect(rows.map((r) => r.IncidentId).sort()).toEqual(incidents.map((i) => String(i.id)).sort());
    expect(rows.every((r) => r.TenantId === A && r.EventType === 'incident.updated')).toBe(true);
    expect(stack.logsIngestion.uploads.length - uploadsBefore).toBe(1);
    expect(JSON.parse((await cli('deliver', '--json')).stdout)).toEqual({
      delivered: 0,
      failed: 0,
      deadLettered: 0,
      pending: 0,
    });
    await cli('subscriptions', 'remove', id);
  });

  it('two deliverers at once: while one is inside a send, the other leaves the pair alone; order holds', async () => {
    const settings = loadSettings(env);
    const one = createServices(settings, { env, logger: silentLogger });
    const two = createServices(settings, { env, logger: silentLogger });
    await Promise.all([one.ready(), two.ready()]);
    const hook = stack.webhooks.addEndpoint();
    const { id } = JSON.parse(
      (await cli('subscriptions', 'add', '--url', hook.url, '--secret', hook.secret, '--json')).stdout,
    ) as { id: string };
    const incidentId = String(stack.world.graphIncidents(A)[2]?.id);
    for (let i = 0; i < 3; i++) {
      stack.world.mutate(A, incidentId);
      expect((await cli('collect', '--no-deliver')).code).toBe(0);
    }

    const stall = stack.webhooks.stall();
    const first = deliverPass({ ...one.deliverDeps(), owner: 'one' });
    await stall.arrived;
    const second = await deliverPass({ ...two.deliverDeps(), owner: 'two' });
    stall.release();
    const firstResult = await first;

    expect(second).toMatchObject({ delivered: 0, failed: 0 });
    expect(firstResult).toMatchObject({ delivered: 3, failed: 0, pending: 0 });
    const seqs = stack.webhooks.to(hook.path).map((d) => d.event.data.sequence);
    expect(seqs).toHaveLength(3);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    await cli('subscriptions', 'remove', id);
  });
});
