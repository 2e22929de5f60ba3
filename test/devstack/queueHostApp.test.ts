/**
 * The local Functions host running the app's REAL registered handlers in a worker process (the app bundled as the
 * deployment package bundles it), against the local stack: the `collectSchedule` timer's output messages are
 * drained by `collectTenant`, a transient failure is thrown by the handler and redelivered with dequeueCount 2, the
 * run's row ends complete with each tenant counted once, and a message on `tenant-collect-poison` reaches the real
 * poison handler. The host's settings are the repository's host.json with visibilityTimeout 0, so a redelivery
 * waits on the host's events, not on a clock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { QueueServiceClient } from '@azure/storage-queue';
import { HostWorker, prepareHostScripts, type HostScripts } from '../../devstack/hostProcess.js';
import type { HostEvent } from '../../devstack/queueHost.js';
import { createServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config/settings.js';
import { silentLogger } from '../../shared/log.js';
import { startBenchStack, type BenchStack } from '../../scripts/bench/benchStack.js';

describe('local Functions host with the real app', () => {
  let bench: BenchStack;
  let scripts: HostScripts;
  let dir: string;
  let services: Services;
  let worker: HostWorker | undefined;
  const events: HostEvent[] = [];
  const waiters: { match: (e: HostEvent[]) => boolean; resolve: () => void }[] = [];
  const until = (match: (e: HostEvent[]) => boolean) =>
    new Promise<void>((resolve) => {
      if (match(events)) resolve();
      else waiters.push({ match, resolve });
    });

  beforeAll(async () => {
    bench = await startBenchStack({ tenants: 3, incidentsPerTenant: 4, seed: 31 });
    const env = bench.collectorEnv('graph');
    services = createServices(loadSettings(env), { logger: silentLogger, env });
    await services.ready();
    const prepared = await prepareHostScripts();
    dir = await mkdtemp(path.join(os.tmpdir(), 'queue-host-app-'));
    const hostJson = JSON.parse(await readFile(prepared.hostJson, 'utf8')) as {
      extensions: { queues: Record<string, unknown> };
    };
    hostJson.extensions.queues.visibilityTimeout = '00:00:00';
    const testHostJson = path.join(dir, 'host.json');
    await writeFile(testHostJson, JSON.stringify(hostJson));
    scripts = { ...prepared, hostJson: testHostJson };
  });

  afterAll(async () => {
    worker?.kill();
    await scripts?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
    await bench?.stop();
  });

  it('drains the timer run through collectTenant, retries a throw, and feeds the poison handler', async () => {
    const [flaky, other] = bench.tenantIds as [string, string, string];
    bench.stack.graph.inject({
      match: (r) => r.tenantId === flaky && r.path.includes('/security/incidents'),
      status: 503,
      times: Infinity,
    });
    worker = await HostWorker.start(scripts, bench.collectorEnv('graph'), { events: true, logLevel: 'none' });
    worker.onEvent = (event) => {
      events.push(event);
      // The first delivery's failure is in: let the redelivery through.
      if (event.kind === 'failed' && event.functionName === 'collectTenant') bench.stack.graph.clearFaults();
      for (const w of [...waiters])
        if (w.match(events)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
    };
    expect(worker.listening.sort()).toEqual(['collectTenant', 'collectTenantPoison']);

    const fired = await worker.fire('collectSchedule');
    expect(fired.sent).toBe(3);
    const messages = fired.texts.map(
      (t) => JSON.parse(Buffer.from(t, 'base64').toString('utf8')) as { runId: string; runStartedAt: string },
    );
    const completed = (e: HostEvent[]) => e.filter((x) => x.kind === 'completed' && x.functionName === 'collectTenant');
    await until((e) => completed(e).length === 3);

    const failed = events.filter((e) => e.kind === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ functionName: 'collectTenant', dequeueCount: 1 });
    const retried = completed(events).find((e) => e.kind === 'completed' && e.messageId === failed[0]?.messageId);
    expect(retried).toMatchObject({ dequeueCount: 2 });

    const { runId, runStartedAt } = messages[0] as { runId: string; runStartedAt: string };
    const run = await services.runs.get(runId, runStartedAt);
    expect(run).toMatchObject({ tenantsPlanned: 3, tenantsOk: 3, tenantsFailed: 0, deadLetters: 0 });
    expect(run?.finishedAt).toBeDefined();
    const queues = QueueServiceClient.fromConnectionString(bench.stack.azurite?.connectionString as string);
    expect((await queues.getQueueClient('tenant-collect').getProperties()).approximateMessagesCount).toBe(0);

    // What the host moves to the poison queue after maxDequeueCount: the poison handler records it on the tenant.
    const poisonMessage = { runId: 'poison-check', runStartedAt: new Date().toISOString(), tenantId: other, slot: 0 };
    await queues
      .getQueueClient('tenant-collect-poison')
      .sendMessage(Buffer.from(JSON.stringify(poisonMessage)).toString('base64'));
    await until((e) => e.some((x) => x.kind === 'completed' && x.functionName === 'collectTenantPoison'));
    expect((await services.tenants.get(other))?.lastErrorCode).toBe('DEAD_LETTER');

    const counters = await worker.stop();
    worker = undefined;
    expect(counters.completed).toBe(4);
    expect(counters.failed).toBe(1);
  });
});
