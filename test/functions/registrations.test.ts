/**
 * The built app as the Functions host loads it: compiled by the project's build configuration, imported by plain
 * Node 22 (no jest, no transformer — the CommonJS named-import trap would fail here), with a stub of the
 * worker-injected module `@azure/functions-core` recording every registration. Asserts the exact functions and
 * bindings the host would see.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const run = promisify(execFile);
const ROOT = process.cwd();
const NODE = path.join(ROOT, 'node_modules', '.bin', 'node');
const STUB = path.join(ROOT, 'test', 'functions', 'fixtures', 'functionsCoreStub.mjs');

interface Binding {
  type: string;
  direction: string;
  [key: string]: unknown;
}
interface Registration {
  metadata: { name: string; bindings: Record<string, Binding> };
  handlerType: string;
}

/** What the host should see, per function: trigger plus outputs (binding names are generated, so ignored). */
function summary(r: Registration) {
  const bindings = Object.values(r.metadata.bindings);
  const trigger = bindings.find((b) => b.direction === 'in') as Binding;
  const { name: _n, properties: _p, ...triggerFields } = trigger;
  const outputs = bindings.filter((b) => b.direction === 'out').map(({ name: _o, ...rest }) => rest);
  return { name: r.metadata.name, trigger: triggerFields, outputs, handler: r.handlerType };
}

const HTTP_OUT = { type: 'http', direction: 'out' };
const QUEUE_OUT = { type: 'queue', direction: 'out', queueName: 'tenant-collect', connection: 'AzureWebJobsStorage' };
const http = (name: string, route: string, method: string, authLevel: string, extra: object[] = []) => ({
  name,
  trigger: { type: 'httpTrigger', direction: 'in', route, methods: [method], authLevel },
  outputs: [HTTP_OUT, ...extra],
  handler: 'function',
});

describe('the built function app in plain Node', () => {
  let outDir: string;
  let registrations: Registration[];

  beforeAll(async () => {
    // A private build (same tsconfig.build.json) so concurrent tests reading dist/ never see half-written files.
    outDir = await mkdtemp(path.join(os.tmpdir(), 'functions-build-'));
    await writeFile(path.join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
    await symlink(path.join(ROOT, 'node_modules'), path.join(outDir, 'node_modules'), 'dir');
    await mkdir(path.join(outDir, 'out'));
    const tsc = path.join(ROOT, 'node_modules', '.bin', 'tsc');
    // tsc emits even when someone else's file has a type error; type errors are `npm run typecheck`'s job.
    await run(
      NODE,
      [tsc, '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(outDir, 'out'), '--sourceMap', 'false'],
      { cwd: ROOT },
    ).catch(() => undefined);
    const entry = path.join(outDir, 'out', 'functions', 'index.js');
    const { stdout } = await run(NODE, ['--import', STUB, entry], {
      cwd: outDir,
      env: { PATH: process.env.PATH ?? '' },
    });
    registrations = JSON.parse(stdout.trim().split('\n').at(-1) as string) as Registration[];
  });

  afterAll(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('registers exactly the expected functions and bindings', () => {
    const byName = Object.fromEntries(registrations.map((r) => [r.metadata.name, summary(r)]));
    expect(Object.keys(byName).sort()).toEqual([
      'collectSchedule',
      'collectTenant',
      'collectTenantPoison',
      'consentCallback',
      'consentLink',
      'deliverEvents',
      'health',
      'incidentGet',
      'incidentsList',
      'pruneHistory',
      'status',
      'subscriptionDelete',
      'subscriptionReplay',
      'subscriptionsAdd',
      'subscriptionsList',
      'tenantCollect',
      'tenantDelete',
      'tenantDisable',
      'tenantEnable',
      'tenantGet',
      'tenantsList',
    ]);
    expect(byName).toEqual({
      collectSchedule: {
        name: 'collectSchedule',
        trigger: {
          type: 'timerTrigger',
          direction: 'in',
          schedule: '%COLLECT_SCHEDULE%',
          runOnStartup: false,
          useMonitor: true,
        },
        outputs: [QUEUE_OUT],
        handler: 'function',
      },
      collectTenant: {
        name: 'collectTenant',
        trigger: {
          type: 'queueTrigger',
          direction: 'in',
          queueName: 'tenant-collect',
          connection: 'AzureWebJobsStorage',
        },
        outputs: [],
        handler: 'function',
      },
      collectTenantPoison: {
        name: 'collectTenantPoison',
        trigger: {
          type: 'queueTrigger',
          direction: 'in',
          queueName: 'tenant-collect-poison',
          connection: 'AzureWebJobsStorage',
        },
        outputs: [],
        handler: 'function',
      },
      deliverEvents: {
        name: 'deliverEvents',
        trigger: {
          type: 'timerTrigger',
          direction: 'in',
          schedule: '0 * * * * *',
          runOnStartup: false,
          useMonitor: false,
        },
        outputs: [],
        handler: 'function',
      },
      pruneHistory: {
        name: 'pruneHistory',
        trigger: {
          type: 'timerTrigger',
          direction: 'in',
          schedule: '0 30 3 * * *',
          runOnStartup: false,
          useMonitor: true,
        },
        outputs: [],
        handler: 'function',
      },
      subscriptionsList: http('subscriptionsList', 'subscriptions', 'GET', 'function'),
      subscriptionsAdd: http('subscriptionsAdd', 'subscriptions', 'POST', 'function'),
      subscriptionDelete: http('subscriptionDelete', 'subscriptions/{id}', 'DELETE', 'function'),
      subscriptionReplay: http('subscriptionReplay', 'subscriptions/{id}/replay', 'POST', 'function'),
      consentLink: http('consentLink', 'consent/link', 'GET', 'function'),
      consentCallback: http('consentCallback', 'consent/callback', 'GET', 'anonymous'),
      health: http('health', 'health', 'GET', 'anonymous'),
      status: http('status', 'status', 'GET', 'function'),
      tenantsList: http('tenantsList', 'tenants', 'GET', 'function'),
      tenantGet: http('tenantGet', 'tenants/{id}', 'GET', 'function'),
      tenantCollect: http('tenantCollect', 'tenants/{id}/collect', 'POST', 'function', [QUEUE_OUT]),
      tenantDisable: http('tenantDisable', 'tenants/{id}/disable', 'POST', 'function'),
      tenantEnable: http('tenantEnable', 'tenants/{id}/enable', 'POST', 'function'),
      tenantDelete: http('tenantDelete', 'tenants/{id}', 'DELETE', 'function'),
      incidentsList: http('incidentsList', 'incidents', 'GET', 'function'),
      incidentGet: http('incidentGet', 'tenants/{tenantId}/incidents/{incidentId}', 'GET', 'function'),
    });
  });
});
