/**
 * The CLI's delivery actions (design §9): `subscriptions add|list|remove|enable|deadletters|replay` and `deliver`,
 * plus the one delivery pass at the end of `collect`. Exit codes as §5: 0 ok · 1 some delivery failed (retried or
 * dead-lettered) · 2 usage/configuration. A generated secret is printed by `add` only, once.
 */
import { ensureError } from '../domain/errors.js';
import type { Services } from '../composition.js';
import { requireTimestamp } from '../domain/time.js';
import { parseSubscriptionId } from '../domain/subscription.js';
import { deliverPass, type DeliveryReport } from '../usecases/deliver.js';
import {
  addSubscription,
  enableSubscription,
  listDeadLetters,
  listSubscriptions,
  removeSubscription,
  replaySubscription,
} from '../usecases/subscriptions.js';
import type { Io } from './io.js';

/** Options of `subscriptions add` as commander parses them. */
export interface AddOptions {
  url?: string;
  secret?: string;
  tenant: string[];
  minSeverity?: string;
  type: string[];
  logAnalytics: boolean;
  endpoint?: string;
  rule?: string;
  stream?: string;
  json: boolean;
}

/** The subscription handlers of the CLI (see program.ts). */
export interface SubscriptionHandlers {
  subscriptionsAdd(opts: AddOptions): Promise<number>;
  subscriptionsList(opts: { json: boolean }): Promise<number>;
  subscriptionsRemove(id: string, opts?: { json: boolean }): Promise<number>;
  subscriptionsEnable(id: string, opts?: { json: boolean }): Promise<number>;
  subscriptionsDeadLetters(id: string, opts: { json: boolean }): Promise<number>;
  subscriptionsReplay(id: string, opts: { since?: string; tenant: string[]; json?: boolean }): Promise<number>;
  deliver(opts: { json: boolean }): Promise<number>;
}

/** `deliver`'s exit code: 1 when an attempt failed, an event was dead-lettered, or events cannot be sent at all. */
export function deliveryExitCode(report: DeliveryReport): number {
  return report.failed > 0 || report.deadLettered > 0 || report.retrying > 0 || report.blocked.length > 0 ? 1 : 0;
}

/** The `deliver --json` object (design §9). */
export function deliveryFigures(report: DeliveryReport): Record<string, number> {
  return {
    delivered: report.delivered,
    failed: report.failed,
    deadLettered: report.deadLettered,
    pending: report.pending,
  };
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function filtersText(f: { tenants?: readonly string[]; minSeverity?: string; types?: readonly string[] }): string {
  const parts = [
    f.tenants ? `tenants=${f.tenants.join(',')}` : '',
    f.minSeverity ? `min-severity=${f.minSeverity}` : '',
    f.types ? `types=${f.types.join(',')}` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(' ') : '-';
}

/** `collect`'s end pass starts no send after 2 minutes (a slow receiver never holds collect up longer). */
export const COLLECT_PASS_BUDGET_MS = 120_000;

/**
 * One delivery pass for `collect` (design §9): its figures go to stderr; a failure is logged, never thrown, so
 * collection's exit code and results stay its own.
 */
export async function deliverAfterCollect(s: Services, io: Io): Promise<void> {
  try {
    const report = await deliverPass({ ...s.deliverDeps(), budgetMs: COLLECT_PASS_BUDGET_MS });
    if (report.delivered + report.failed + report.deadLettered + report.pending > 0 || report.blocked.length > 0)
      io.err(
        `delivery: ${report.delivered} delivered, ${report.failed} failed (will retry), ${report.deadLettered} dead-lettered, ${report.pending} pending\n`,
      );
    for (const b of report.blocked) io.err(`delivery: ${b.code}: ${b.message}\n`);
  } catch (error) {
    io.err(
      `delivery: the pass failed and will be retried by "deliver" or the Functions app: ${ensureError(error).message}\n`,
    );
  }
}

export function createSubscriptionHandlers(services: () => Promise<Services>, io: Io): SubscriptionHandlers {
  return {
    async subscriptionsAdd(opts) {
      const s = await services();
      const added = await addSubscription(s.subscriptionDeps(), {
        ...(opts.url !== undefined ? { url: opts.url } : {}),
        ...(opts.secret !== undefined ? { secret: opts.secret } : {}),
        tenants: opts.tenant,
        ...(opts.minSeverity !== undefined ? { minSeverity: opts.minSeverity } : {}),
        types: opts.type,
        logAnalytics: opts.logAnalytics,
        ...(opts.endpoint !== undefined ? { endpoint: opts.endpoint } : {}),
        ...(opts.rule !== undefined ? { ruleId: opts.rule } : {}),
        ...(opts.stream !== undefined ? { stream: opts.stream } : {}),
      });
      if (opts.json) {
        await io.out(`${JSON.stringify(added)}\n`);
      } else {
        await io.out(`${added.id}\n`);
        if (added.secret !== undefined)
          io.err(`Signing secret (shown once, keep it with the receiver): ${added.secret}\n`);
      }
      io.err(`Subscription ${added.id} added: events written from now on are delivered (older ones via replay).\n`);
      return 0;
    },

    async subscriptionsList(opts) {
      const s = await services();
      const views = await listSubscriptions(s.subscriptionDeps());
      if (opts.json) {
        await io.out(
          `${JSON.stringify(
            views.map((v) => ({
              id: v.id,
              kind: v.kind,
              ...(v.url !== undefined ? { url: v.url } : {}),
              filters: v.filters,
              status: v.status,
              pending: v.pending,
              deadLettered: v.deadLettered,
            })),
          )}\n`,
        );
      } else if (views.length === 0) {
        io.err('No subscriptions: add one with "incident-collector subscriptions add --url <url>".\n');
      } else {
        const rows = [['ID', 'KIND', 'TARGET', 'STATUS', 'PENDING', 'DEAD LETTERS', 'FILTERS']];
        for (const v of views)
          rows.push([
            v.id,
            v.kind,
            v.url ?? `${v.endpoint ?? ''} ${v.stream ?? ''}`,
            v.status,
            String(v.pending),
            String(v.deadLettered),
            filtersText(v.filters),
          ]);
        await io.out(table(rows));
      }
      return 0;
    },

    async subscriptionsRemove(id, opts) {
      parseSubscriptionId(id);
      const s = await services();
      await removeSubscription(s.subscriptionDeps(), id);
      if (opts?.json) await io.out(`${JSON.stringify({ id, removed: true })}\n`);
      io.err(`Subscription ${id} removed.\n`);
      return 0;
    },

    async subscriptionsEnable(id, opts) {
      parseSubscriptionId(id);
      const s = await services();
      const sub = await enableSubscription(s.subscriptionDeps(), id);
      if (opts?.json) await io.out(`${JSON.stringify({ id: sub.id, status: sub.status })}\n`);
      io.err(`Subscription ${sub.id} is active: the events it owes are sent from the next delivery pass.\n`);
      return 0;
    },

    async subscriptionsDeadLetters(id, opts) {
      parseSubscriptionId(id);
      const s = await services();
      const letters = await listDeadLetters(s.subscriptionDeps(), id);
      if (opts.json) {
        await io.out(`${JSON.stringify(letters)}\n`);
      } else if (letters.length === 0) {
        io.err('No dead letters.\n');
      } else {
        const rows = [['EVENT', 'SEQUENCE', 'TIME', 'ATTEMPTS', 'DEAD-LETTERED', 'LAST ERROR']];
        for (const d of letters)
          rows.push([
            d.eventId,
            String(d.sequence),
            d.eventTime,
            String(d.attempts),
            d.deadLetteredAt,
            `${d.lastErrorCode}: ${d.lastError}`.slice(0, 120),
          ]);
        await io.out(table(rows));
      }
      return 0;
    },

    async subscriptionsReplay(id, opts) {
      parseSubscriptionId(id);
      const since = opts.since === undefined ? undefined : requireTimestamp(opts.since, '--since');
      const s = await services();
      const result = await replaySubscription(s.subscriptionDeps(), id, {
        ...(since !== undefined ? { since } : {}),
        ...(opts.tenant.length ? { tenants: opts.tenant } : {}),
      });
      if (opts.json) await io.out(`${JSON.stringify(result)}\n`);
      io.err(
        `Replay of ${result.subscriptionId}: ${result.tenants.length} tenant(s) re-queued (${result.deadLettersRequeued} dead letter(s) among them); the next delivery pass sends them in order.\n`,
      );
      return 0;
    },

    async deliver(opts) {
      const s = await services();
      const report = await deliverPass(s.deliverDeps());
      if (opts.json) await io.out(`${JSON.stringify(deliveryFigures(report))}\n`);
      else
        await io.out(
          table([
            ['DELIVERED', 'FAILED', 'DEAD-LETTERED', 'PENDING'],
            [String(report.delivered), String(report.failed), String(report.deadLettered), String(report.pending)],
          ]),
        );
      for (const b of report.blocked) io.err(`${b.code}: ${b.message}\n`);
      return deliveryExitCode(report);
    },
  };
}
