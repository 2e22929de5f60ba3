/**
 * SIGKILL mid-tenant, between a page's write and its checkpoint (issue 5 §1): the real CLI runs as a child
 * process (built dist/, the stack's environment) with its table traffic going through a proxy; when the checkpoint
 * write after page `killAtPage` arrives, the proxy holds it and the child is killed. Then a new process collects
 * again (its lease clock 11 minutes later, so the dead run's lease has expired) and the store is compared.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { compareInstants } from '../../shared/domain/time.js';
import type { SourceKind } from '../../shared/ports.js';
import { LEASE_MS } from '../../shared/usecases/collectTenant.js';
import { runCollection } from '../../shared/usecases/runCollection.js';
import type { LocalStack } from '../../devstack/stack.js';
import { collectorProcess } from './collectorServices.js';
import { compareWithTruth, type TruthFigures } from './storeTruth.js';
import { TableProxy, viaTablePort } from './tableProxy.js';
import { TenantAllocator } from './tenantAllocator.js';
import { CheckpointRecorder } from './checkpointRecorder.js';

export interface KillOptions {
  readonly stack: LocalStack;
  readonly allocator: TenantAllocator;
  readonly source: SourceKind;
  readonly incidents: number;
  /** Kill when this checkpoint write (1-based, after at least one page write) is about to reach storage. */
  readonly killAtPage: number;
  /**
   * Issue 14: the rerun collects from this other source (the tenant was switched while the killed run held
   * unfinished pages); the store is then compared row by row with the truth of each row's own source.
   */
  readonly switchTo?: SourceKind;
  readonly repoRoot: string;
  readonly logLines: string[];
  /** The child's stderr (for the secret scan). */
  readonly childOutput: string[];
}

export interface KillRow extends TruthFigures {
  readonly source: SourceKind;
  /** The source of the rerun when it differs (a source switch across the kill), else null. */
  readonly switchedTo: SourceKind | null;
  readonly killAtPage: number;
  /** True when the child was killed at the chosen point (not before, not after it finished). */
  readonly killedAtPoint: boolean;
  /** History rows the killed run wrote beyond its last checkpoint (proof the kill fell in the gap). */
  readonly rowsPastCheckpoint: boolean;
  readonly checkpointRegressions: number;
  readonly notRecovered: number;
}

const CHECKPOINT_WRITE = /^(PUT|MERGE|PATCH)$/;

export async function killMidTenant(options: KillOptions): Promise<KillRow> {
  const { stack, source } = options;
  const [victim] = options.allocator.allocate(1, options.incidents) as [string];
  const env = { ...stack.env, INCIDENT_SOURCE: source, SYNC_LAG_SECONDS: '0' };
  const recorder = new CheckpointRecorder();
  const setup = await collectorProcess({ env, logLines: options.logLines });
  await TenantAllocator.register(setup.services.tenants, [victim]);

  let batchesSinceCheckpoint = 0;
  let checkpoints = 0;
  let killed = false;
  let kill: () => void = () => undefined;
  const proxy = await new TableProxy(stack.azurite?.tablePort as number, (method, url) => {
    if (method === 'POST' && url.includes('$batch')) batchesSinceCheckpoint++;
    if (CHECKPOINT_WRITE.test(method) && url.includes('/Tenants(') && batchesSinceCheckpoint > 0) {
      batchesSinceCheckpoint = 0;
      if (++checkpoints === options.killAtPage) {
        killed = true;
        kill();
        return 'hold';
      }
    }
    return 'forward';
  }).start();

  try {
    const child = spawn(
      process.execPath,
      [path.join(options.repoRoot, 'dist/shared/cli/main.js'), 'collect', '--json', '--tenant', victim],
      {
        env: {
          ...process.env,
          ...env,
          AzureWebJobsStorage: viaTablePort(stack.azurite?.connectionString as string, proxy.port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    kill = () => child.kill('SIGKILL');
    let output = '';
    child.stdout.on('data', (d: Buffer) => void (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => void (output += d.toString()));
    await new Promise<void>((resolve) => child.once('exit', () => resolve()));
    options.childOutput.push(output);
  } finally {
    await proxy.stop();
  }

  // What the dead run left: its checkpoint, and whether it wrote history past it (the gap the kill fell in).
  await recorder.observeStore(setup.services.tenants, [victim]);
  const checkpoint = (await setup.services.tenants.get(victim))?.checkpoint;
  let rowsPastCheckpoint = false;
  for await (const row of setup.services.snapshots.history({ tenantId: victim })) {
    if (checkpoint === undefined || compareInstants(row.lastUpdateTime, checkpoint) > 0) rowsPastCheckpoint = true;
  }

  const later = { now: () => new Date(Date.now() + LEASE_MS + 60_000) };
  const rerunEnv = options.switchTo ? { ...env, INCIDENT_SOURCE: options.switchTo } : env;
  const rerun = await collectorProcess({ env: rerunEnv, logLines: options.logLines, recorder, storageClock: later });
  const run = await runCollection(rerun.runDeps, { trigger: 'reliability', tenantIds: [victim] });
  await recorder.observeStore(rerun.services.tenants, [victim]);
  const figures = await compareWithTruth(
    rerun.services.snapshots,
    stack.world,
    options.switchTo ? 'per-row' : source,
    victim,
    stack.env.AzureWebJobsStorage,
  );
  return {
    source,
    switchedTo: options.switchTo ?? null,
    killAtPage: options.killAtPage,
    killedAtPoint: killed,
    rowsPastCheckpoint,
    ...figures,
    checkpointRegressions: recorder.regressions,
    notRecovered: run.tenants.filter((r) => r.status !== 'ok').length,
  };
}
