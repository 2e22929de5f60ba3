/**
 * The faults of the matrix (issue 5 §1). Each arms itself on the simulators for one victim tenant, starting at
 * the victim's `point`-th request of the faulted kind (list pages for the incidents API, token requests for
 * Entra, secret reads for Key Vault), either `persistent` (until cleared: the run must fail safely) or as a
 * short burst (the bounded retries should absorb it). `clearFaults` puts the world back to normal.
 */
import type { SourceKind } from '../../shared/ports.js';
import { entraError } from '../../devstack/entraErrors.js';
import type { LocalStack, SimRequest } from '../../devstack/stack.js';
import type { SimResponse, SimServer } from '../../devstack/simServer.js';
import { answerRewriter } from './simHooks.js';

export interface ArmContext {
  readonly stack: LocalStack;
  readonly victim: string;
  readonly source: SourceKind;
  /** 1-based: the first request of the faulted kind that is hit. */
  readonly point: number;
  readonly persistent: boolean;
  /** Called each time the fault actually hits a request (a point past the run's last request never fires). */
  readonly onHit: () => void;
}

export type FaultTarget = 'api' | 'token' | 'vault';

export interface FaultCase {
  readonly name: string;
  readonly target: FaultTarget;
  readonly sources: readonly SourceKind[];
  /** The fault hits every tenant (Key Vault holds the one partner secret): no bystanders to check. */
  readonly hitsEveryone?: boolean;
  arm(ctx: ArmContext): void;
}

/** Burst length of a non-persistent fault: fewer than the adapter's 5 attempts per call. */
const BURST = 2;
/** Request timeout the matrix runs the collector with; the timeout fault answers later than this. */
export const MATRIX_REQUEST_TIMEOUT_MS = 1_500;

function apiSim(stack: LocalStack, source: SourceKind): SimServer {
  return source === 'graph' ? stack.graph : stack.legacy;
}

/** Matches the victim's requests of `kind` from the `point`-th one on (counts every attempt, retries included). */
function fromPoint(victim: string, kind: string, point: number): (req: SimRequest) => boolean {
  let seen = 0;
  return (req) => req.kind === kind && req.tenantId === victim && ++seen >= point;
}

/** `match` that also reports each hit. */
function reporting(ctx: ArmContext, match: (req: SimRequest) => boolean): (req: SimRequest) => boolean {
  return (req) => {
    const hit = match(req);
    if (hit) ctx.onHit();
    return hit;
  };
}

function times(ctx: ArmContext): number {
  return ctx.persistent ? Infinity : BURST;
}

function apiFault(
  name: string,
  sources: readonly SourceKind[],
  answer: (source: SourceKind) => Partial<Parameters<SimServer['inject']>[0]>,
): FaultCase {
  return {
    name,
    target: 'api',
    sources,
    arm: (ctx) =>
      apiSim(ctx.stack, ctx.source).inject({
        ...answer(ctx.source),
        match: reporting(ctx, fromPoint(ctx.victim, 'incidents', ctx.point)),
        times: times(ctx),
      }),
  };
}

const BOTH: readonly SourceKind[] = ['graph', 'm365d'];
const GRAPH: readonly SourceKind[] = ['graph'];

function throttled(source: SourceKind, retryAfter: boolean): Partial<Parameters<SimServer['inject']>[0]> {
  const body =
    source === 'graph'
      ? {
          error: {
            code: 'TooManyRequests',
            message: 'Too many requests.',
            innerError: { date: new Date().toISOString() },
          },
        }
      : {
          error: {
            code: 'TooManyRequests',
            message: retryAfter ? 'Rate limit is exceeded.' : 'Rate limit is exceeded. Try again in 1 seconds.',
            target: 'x',
          },
        };
  return { status: 429, body, ...(retryAfter ? { headers: { 'Retry-After': '1' } } : {}) };
}

/**
 * A URL for the same query at the same position, made distinct so it is not a loop (real Graph varies its
 * `$skiptoken`; the simulator accepts only documented options, so the page size is varied instead).
 */
function samePositionLink(stack: LocalStack, req: SimRequest, n: number): string {
  const query = new URLSearchParams(req.query);
  query.set('$top', String(Math.max(1, Number(query.get('$top') ?? 50) - 1 - (n % 10))));
  return `${stack.graph.url}${req.path}?${query.toString()}`;
}

/** Graph answers rewritten for the victim from `point` on: the real body with `change` applied. */
function graphRewrite(
  name: string,
  change: (stack: LocalStack, req: SimRequest, answer: SimResponse, n: number, first: string) => SimResponse,
): FaultCase {
  return {
    name,
    target: 'api',
    sources: GRAPH,
    arm: (ctx) => {
      const hit = fromPoint(ctx.victim, 'incidents', ctx.point);
      let left = times(ctx);
      let n = 0;
      let first: string | undefined;
      answerRewriter(ctx.stack.graph).set((req, answer) => {
        if (req.kind !== 'incidents' || req.tenantId !== ctx.victim || answer.status !== 200) return answer;
        const url = `${ctx.stack.graph.url}${req.path}?${req.query.toString()}`;
        first ??= url;
        if (!hit(req) || left <= 0) return answer;
        left--;
        ctx.onHit();
        return change(ctx.stack, req, answer, ++n, first);
      });
    },
  };
}

/** A list-page fault from `point` on that hits only the victim's requests `also` accepts (counting every one). */
function apiFaultWhere(
  name: string,
  sources: readonly SourceKind[],
  also: (req: SimRequest) => boolean,
  answer: Partial<Parameters<SimServer['inject']>[0]>,
  before?: (ctx: ArmContext) => void,
): FaultCase {
  return {
    name,
    target: 'api',
    sources,
    arm: (ctx) => {
      before?.(ctx);
      const atPoint = fromPoint(ctx.victim, 'incidents', ctx.point);
      apiSim(ctx.stack, ctx.source).inject({
        ...answer,
        match: reporting(ctx, (req) => atPoint(req) && also(req)),
        times: times(ctx),
      });
    },
  };
}

/**
 * Poison records (issue 10 §3): from `point` on, the victim's newest incident comes back broken by `change` in every
 * list answer. The collector must keep the others, quarantine it and go on; after the fault is cleared the next run's
 * overlap reads it whole again (the newest is always past the checkpoint the good records allow).
 */
function poisonFault(name: string, change: (item: Record<string, unknown>, source: SourceKind) => void): FaultCase {
  return {
    name,
    target: 'api',
    sources: BOTH,
    arm: (ctx) => {
      const sim = apiSim(ctx.stack, ctx.source);
      const graph = ctx.source === 'graph';
      const truth = graph ? ctx.stack.world.graphIncidents(ctx.victim) : ctx.stack.world.legacyIncidents(ctx.victim);
      const idOf = (i: Record<string, unknown>) => String(graph ? i.id : i.incidentId);
      const timeOf = (i: Record<string, unknown>) => String(graph ? i.lastUpdateDateTime : i.lastUpdateTime);
      const newest = [...truth].sort((a, b) => timeOf(b).localeCompare(timeOf(a)))[0];
      const target = newest ? idOf(newest) : undefined;
      const hit = fromPoint(ctx.victim, 'incidents', ctx.point);
      let left = times(ctx);
      answerRewriter(sim).set((req, answer) => {
        if (req.kind !== 'incidents' || req.tenantId !== ctx.victim || answer.status !== 200) return answer;
        if (!hit(req) || left <= 0) return answer;
        const body = structuredClone(answer.body) as { value?: Record<string, unknown>[] };
        const item = body.value?.find((i) => idOf(i) === target);
        if (!item) return answer;
        left--;
        ctx.onHit();
        change(item, ctx.source);
        return { ...answer, body };
      });
    },
  };
}

function tokenFault(name: string, answer: () => Partial<Parameters<SimServer['inject']>[0]>): FaultCase {
  return {
    name,
    target: 'token',
    sources: BOTH,
    arm: (ctx) => {
      // Short-lived tokens make every request fetch a new one, so a point past the first is reachable.
      ctx.stack.entra.setTokenLifetime(120);
      ctx.stack.entra.inject({
        ...answer(),
        match: reporting(ctx, fromPoint(ctx.victim, 'token', ctx.point)),
        times: times(ctx),
      });
    },
  };
}

function vaultFault(name: string, answer: Partial<Parameters<SimServer['inject']>[0]>): FaultCase {
  return {
    name,
    target: 'vault',
    sources: BOTH,
    hitsEveryone: true,
    arm: (ctx) => {
      let seen = 0;
      ctx.stack.keyVault.inject({
        ...answer,
        match: reporting(ctx, (req) => req.kind === 'secret' && ++seen >= ctx.point),
        times: times(ctx),
      });
    },
  };
}

export const FAULTS: readonly FaultCase[] = [
  apiFault('API 429 with Retry-After', BOTH, (s) => throttled(s, true)),
  apiFault('API 429 without Retry-After', BOTH, (s) => throttled(s, false)),
  apiFault('API 500', BOTH, () => ({ status: 500, body: { error: { code: 'InternalServerError', message: 'boom' } } })),
  apiFault('API 503', BOTH, () => ({ status: 503, body: { error: { code: 'ServiceUnavailable', message: 'later' } } })),
  apiFault('API timeout', BOTH, () => ({ delayMs: MATRIX_REQUEST_TIMEOUT_MS + 1_000, reset: 'before' })),
  apiFault('API reset before answer', BOTH, () => ({ reset: 'before' })),
  apiFault('API reset mid-body', BOTH, () => ({ reset: 'midBody' })),
  apiFault('API truncated JSON', BOTH, () => ({ malformed: true })),
  graphRewrite('Graph empty page with nextLink', (stack, req, answer, n) => ({
    ...answer,
    body: { ...(answer.body as object), value: [], '@odata.nextLink': samePositionLink(stack, req, n) },
  })),
  graphRewrite('Graph nextLink loop', (_stack, _req, answer, _n, first) => ({
    ...answer,
    body: { ...(answer.body as object), '@odata.nextLink': first },
  })),
  // Server ordering (issue 10 §1–2): the order the query promised is not kept, or not offered at all.
  apiFaultWhere(
    'Graph pages sorted, query not; later page 503',
    GRAPH,
    (req) => Number(req.query.get('$skip') ?? 0) > 0,
    { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'later' } } },
    (ctx) => ctx.stack.graph.sortPagesOnly(ctx.victim),
  ),
  apiFaultWhere('Graph $orderby refused (400)', GRAPH, (req) => req.query.has('$orderby'), {
    status: 400,
    body: { error: { code: 'BadRequest', message: "Query option '$orderby' is not allowed." } },
  }),
  apiFaultWhere('Graph continuation refused (410)', GRAPH, (req) => req.query.has('$skip'), {
    status: 410,
    body: { error: { code: 'Gone', message: 'The continuation is no longer valid.' } },
  }),
  // Poison records (issue 10 §3): one bad record among good ones.
  poisonFault('Poison record: null lastUpdate', (item, source) => {
    item[source === 'graph' ? 'lastUpdateDateTime' : 'lastUpdateTime'] = null;
  }),
  poisonFault('Poison record: no id', (item, source) => {
    delete item[source === 'graph' ? 'id' : 'incidentId'];
  }),
  tokenFault('Token endpoint 503', () => ({
    status: 503,
    body: { error: 'temporarily_unavailable', error_description: 'AADSTS90006: try later.' },
  })),
  tokenFault('Token transient AADSTS50033', () => {
    const answer = entraError(400, 'invalid_request', 50033, 'There was a network error; retry the request.');
    return { status: answer.status, body: answer.body };
  }),
  vaultFault('Key Vault 503', { status: 503, body: { error: { code: 'ServiceUnavailable', message: 'later' } } }),
  vaultFault('Key Vault unavailable', { reset: 'before' }),
];

export function clearFaults(stack: LocalStack): void {
  for (const sim of [stack.graph, stack.legacy, stack.entra, stack.keyVault]) sim.clearFaults();
  answerRewriter(stack.graph).set(undefined);
  answerRewriter(stack.legacy).set(undefined);
  stack.graph.restoreOrder();
  stack.entra.setTokenLifetime(3599);
}
