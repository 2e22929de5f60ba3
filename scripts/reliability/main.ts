/**
 * `npm run reliability`: the full reliability and security suite (issue 5) in one command, printing the figures
 * tables. The jest suites in test/reliability run reduced versions of the same scenarios in CI.
 *   --quick   the CI-sized version (for a fast look)
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceKind } from '../../shared/ports.js';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { measureBoundedRetries } from './boundedRetries.js';
import { deliveryFault, type DeliveryFaultRow } from './deliveryFaults.js';
import { measureConcurrency } from './concurrency.js';
import { fuzzConsent } from './consentFuzz.js';
import { runFaultMatrix } from './faultMatrix.js';
import { measureIsolation } from './isolation.js';
import { killMidTenant, type KillRow } from './killMidTenant.js';
import { matrixTable, table } from './report.js';
import { scanForSecrets } from './secretHygiene.js';
import { captureIssuedTokens } from './simHooks.js';
import { storageOutage, type OutageRow } from './storageOutage.js';
import { TenantAllocator } from './tenantAllocator.js';

const quick = process.argv.includes('--quick');
const SOURCES: readonly SourceKind[] = ['graph', 'm365d'];
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const say = (text: string) => process.stdout.write(`${text}\n`);
const progress = (text: string) => process.stderr.write(`  ${text}\n`);

async function main(): Promise<number> {
  const started = Date.now();
  const stack: LocalStack = await startLocalStack({ tenants: [], azurite: { persistent: true } });
  stack.trustInProcess();
  const tokens = new Set<string>();
  captureIssuedTokens(stack.entra, tokens);
  const logLines: string[] = [];
  const messages: string[] = [];
  const childOutput: string[] = [];
  const allocator = new TenantAllocator(stack);
  let failures = 0;
  const check = (ok: boolean) => void (failures += ok ? 0 : 1);
  try {
    progress('fault matrix…');
    const matrix = await runFaultMatrix({
      stack,
      allocator,
      sources: SOURCES,
      points: quick ? [2] : [1, 2, 3],
      modes: quick ? ['persistent'] : ['persistent', 'burst'],
      incidentsPerTenant: 120,
      bystanders: 2,
      logLines,
      messages,
      progress,
    });
    for (const r of matrix)
      check(
        r.lost +
          r.stale +
          r.duplicateHistory +
          r.historyGaps +
          r.versionsWithoutEvent +
          r.eventsWithoutVersion +
          r.duplicateEvents +
          r.foreign +
          r.checkpointRegressions +
          r.bystandersNotOk +
          r.notRecovered ===
          0,
      );

    progress('delivery faults…');
    const deliveryRows: DeliveryFaultRow[] = [];
    for (const fault of ['http500', 'timeout', 'reset', 'la429', 'kill', 'collectKill'] as const) {
      const row = await deliveryFault({
        stack,
        allocator,
        fault,
        tenants: quick ? 2 : 5,
        incidents: quick ? 4 : 20,
        changes: quick ? 2 : 5,
        faultTimes: fault === 'kill' ? 3 : fault === 'collectKill' ? 1 : quick ? 3 : 12,
        logLines,
        repoRoot,
        childOutput,
      });
      deliveryRows.push(row);
      check(row.lost + row.outOfOrder + row.versionsWithoutEvent + row.eventsWithoutVersion === 0);
    }

    progress('SIGKILL mid-tenant…');
    const kills: KillRow[] = [];
    for (const [source, page, switchTo] of [
      // Graph checkpoints once per slice read whole (issue 10): an hourly window of 160 incidents is one slice, so
      // its one checkpoint write comes after every page is written; the kill falls between those writes and it.
      ['graph', 1, undefined],
      ['m365d', 1, undefined],
      // Issue 14: killed on the legacy API, rerun from Graph (a source switch across the kill).
      ['m365d', 1, 'graph'],
    ] as const) {
      kills.push(
        await killMidTenant({
          stack,
          allocator,
          source,
          ...(switchTo ? { switchTo } : {}),
          incidents: 160,
          killAtPage: page,
          repoRoot,
          logLines,
          childOutput,
        }),
      );
    }
    for (const k of kills)
      check(
        k.killedAtPoint &&
          k.lost +
            k.stale +
            k.duplicateHistory +
            k.historyGaps +
            k.versionsWithoutEvent +
            k.eventsWithoutVersion +
            k.duplicateEvents +
            k.checkpointRegressions +
            k.notRecovered ===
            0,
      );

    progress('storage outage…');
    const outages: OutageRow[] = [];
    for (const mode of ['network', 'process'] as const)
      for (const source of SOURCES)
        for (const atPage of quick ? [2] : [1, 2]) {
          outages.push(
            await storageOutage({
              stack,
              allocator,
              source,
              tenants: 3,
              incidents: 120,
              atPage,
              downMs: mode === 'network' ? 6_000 : 1_500,
              mode,
              logLines,
              messages,
            }),
          );
        }
    // A restarted emulator that lost its own last writes says nothing about the collector: counted apart.
    for (const o of outages)
      if (o.dataSurvived)
        check(
          o.outageHappened &&
            o.lost +
              o.stale +
              o.duplicateHistory +
              o.historyGaps +
              o.versionsWithoutEvent +
              o.eventsWithoutVersion +
              o.duplicateEvents +
              o.checkpointRegressions +
              o.notRecovered ===
              0,
        );

    progress('concurrency…');
    const races = [];
    for (const source of SOURCES)
      races.push(await measureConcurrency(stack, allocator, source, quick ? 4 : 8, logLines));
    for (const c of races)
      check(
        c.lost +
          c.stale +
          c.duplicateHistory +
          c.versionsWithoutEvent +
          c.eventsWithoutVersion +
          c.duplicateEvents +
          c.checkpointRegressions +
          c.lostCheckpointUpdates ===
          0,
      );

    progress('isolation…');
    const isolation = await measureIsolation(stack, allocator, SOURCES, logLines);
    for (const i of isolation) check(i.rowsWritten === 0 && i.apiRequests === 0);

    progress('bounded retries…');
    const retries = await measureBoundedRetries(stack, allocator, SOURCES, logLines);
    for (const r of retries) check(r.requests <= r.bound);

    progress('consent fuzzing…');
    const fuzz = await fuzzConsent({ stack, allocator, requests: quick ? 2_000 : 10_000, seed: 11, logLines });
    check(fuzz.registeredWithoutValidState + fuzz.serverErrors + fuzz.unescapedReflections === 0);

    progress('secret scan…');
    const hygiene = await scanForSecrets({ stack, tokens, logLines, messages, childOutput });
    check(hygiene.hits === 0);

    say(`# Reliability figures (${quick ? 'quick' : 'full'} run, ${Math.round((Date.now() - started) / 1000)} s)\n`);
    say(
      `## Fault matrix (${matrix.length} cases: points ${quick ? '2' : '1, 2, 3'} × ${quick ? 'persistent' : 'persistent and burst'}; 1 victim + 2 bystanders, 120 incidents each)\n`,
    );
    say(matrixTable(matrix));
    say("\n## Process killed (SIGKILL) between a page's write and its checkpoint\n");
    say(
      table(
        [
          'Source',
          'Killed before checkpoint of page',
          'Killed there',
          'Rows past checkpoint',
          'Lost',
          'Stale',
          'Duplicate history',
          'Checkpoint regressions',
          'Not recovered',
        ],
        kills.map((k) => [
          k.switchedTo ? `${k.source} → ${k.switchedTo}` : k.source,
          k.killAtPage,
          k.killedAtPoint,
          k.rowsPastCheckpoint,
          k.lost,
          k.stale,
          k.duplicateHistory,
          k.checkpointRegressions,
          k.notRecovered,
        ]),
      ),
    );
    say(
      '\n## Storage gone mid-run (network: connections cut and refused for 6 s; process: Azurite stopped for 1.5 s and restarted)\n',
    );
    say(
      table(
        [
          'Mode',
          'Source',
          'At page',
          'Tenants failed during outage',
          'Emulator data survived',
          'Lost',
          'Stale',
          'Duplicate history',
          'Checkpoint regressions',
          'Not recovered',
        ],
        outages.map((o) => [
          o.mode,
          o.source,
          o.atPage,
          `${o.failedDuringOutage}/3`,
          o.dataSurvived,
          o.lost,
          o.stale,
          o.duplicateHistory,
          o.checkpointRegressions,
          o.notRecovered,
        ]),
      ),
    );
    for (const o of outages)
      if (o.rerunErrors.length)
        say(`\nRerun errors (${o.mode}, ${o.source}, page ${o.atPage}): ${o.rerunErrors.join(' | ')}`);
    say('\n## Concurrency (two overlapping runs + a duplicate delivery + 24 racing checkpoint writers per tenant)\n');
    say(
      table(
        [
          'Source',
          'Tenants',
          'Collections run / lease held',
          'Lost',
          'Stale',
          'Duplicate history',
          'Checkpoint regressions',
          'Lost checkpoint updates',
        ],
        races.map((c) => [
          c.source,
          c.tenants,
          `${c.collected} / ${c.leaseHeld}`,
          c.lost,
          c.stale,
          c.duplicateHistory,
          c.checkpointRegressions,
          c.lostCheckpointUpdates,
        ]),
      ),
    );
    say('\n## Tenant isolation\n');
    say(
      table(
        ['Case', 'Source', 'Rows written', 'API requests', 'Tenant status', 'Code'],
        isolation.map((i) => [i.case, i.source, i.rowsWritten, i.apiRequests, i.status, i.errorCode]),
      ),
    );
    say(
      '\n## Delivery faults (a webhook receiver or Logs Ingestion failing for a while, the deliverer or collect SIGKILLed; 1 s retry schedule and timeout)\n',
    );
    say(
      table(
        [
          'Fault',
          'Events owed',
          'Received',
          'Faulted attempts',
          'Lost',
          'Out of order per incident',
          'Versions without an event',
          'Events without a version',
          'Duplicates',
          'Dead-lettered',
          'Passes',
        ],
        deliveryRows.map((r) => [
          r.fault,
          r.events,
          r.received,
          r.faulted,
          r.lost,
          r.outOfOrder,
          r.versionsWithoutEvent,
          r.eventsWithoutVersion,
          r.duplicates,
          r.deadLettered,
          r.passes,
        ]),
      ),
    );
    say('\n## Bounded retries (requests caused by one permanently failing tenant in one run)\n');
    say(
      table(
        ['Failure', 'Source', 'Requests', 'Bound', 'Outcome'],
        retries.map((r) => [r.failure, r.source, r.requests, r.bound, r.outcome]),
      ),
    );
    say('\n## Consent callback fuzzing\n');
    say(
      table(
        [
          'Requests',
          'Registered without a valid state',
          '5xx',
          'Unescaped reflections',
          'Legitimate consents accepted',
        ],
        [
          [
            fuzz.requests,
            fuzz.registeredWithoutValidState,
            fuzz.serverErrors,
            fuzz.unescapedReflections,
            fuzz.legitimateAccepted,
          ],
        ],
      ),
    );
    say(
      `\nCategories: ${Object.entries(fuzz.byCategory)
        .map(([k, v]) => `${k} ${v}`)
        .join(' · ')}`,
    );
    say('\n## Secret hygiene\n');
    say(
      table(
        [
          'Secrets known',
          'Tokens captured',
          'Texts scanned (log lines, errors, child output, export lines, table rows)',
          'Hits',
        ],
        [[hygiene.secretsKnown, hygiene.tokensKnown, hygiene.textsScanned, hygiene.hits]],
      ),
    );
    if (hygiene.hitPlaces.length) say(`\nHits: ${hygiene.hitPlaces.join('; ')}`);
    say(
      `\n${failures === 0 ? 'All figures are 0 where 0 is required.' : `${failures} scenario(s) broke a zero figure.`}`,
    );
    return failures === 0 ? 0 : 1;
  } finally {
    await stack.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  },
);
