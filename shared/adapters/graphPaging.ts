/**
 * Graph paging decisions, pure (unit-tested): follow `@odata.nextLink` whole, but never past `$skip` 500 —
 * restart the ascending query at the highest `lastUpdateDateTime` seen instead (re-fetching that instant is
 * harmless: the store is idempotent). A restart that makes no progress means more than 500 incidents share
 * one instant, which Graph cannot page; that is an error, not a loop. GraphIncidentSource checks a deep nextLink
 * itself before asking nextGraphStep, because its restart point is a resume hint only while the promised order
 * held (otherwise it halves the time slice instead; design §6.4–5).
 */
import { CollectorError } from '../domain/errors.js';
import { compareInstants } from '../domain/time.js';
import { skipOf } from './odata.js';
import { ErrorCode } from '../domain/errorCodes.js';

/** Graph refuses `$skip` above this (400). */
export const GRAPH_MAX_SKIP = 500;
/** Empty pages that still carry a nextLink, followed before giving up. */
export const MAX_EMPTY_PAGES = 10;

export type GraphStep =
  | { readonly action: 'done' }
  | { readonly action: 'follow'; readonly url: string }
  | { readonly action: 'restart'; readonly from: string };

export interface GraphStepInput {
  readonly nextLink: string | undefined;
  /** The current query's lower bound (`ge`). */
  readonly queryFrom: string;
  /** Highest lastUpdateDateTime yielded so far (any query), if any. */
  readonly highest: string | undefined;
  /** URLs already requested in the current query. */
  readonly seen: ReadonlySet<string>;
  /** Consecutive empty pages that carried a nextLink, this one included. */
  readonly emptyPages: number;
}

export function nextGraphStep(input: GraphStepInput): GraphStep {
  const { nextLink } = input;
  if (nextLink === undefined) return { action: 'done' };
  if (input.seen.has(nextLink)) {
    throw new CollectorError('Graph returned an @odata.nextLink that was already followed (paging loop).', {
      code: ErrorCode.GRAPH_NEXTLINK_LOOP,
      kind: 'permanent',
    });
  }
  if (input.emptyPages > MAX_EMPTY_PAGES) {
    throw new CollectorError(
      `Graph returned ${input.emptyPages} empty pages in a row that still had an @odata.nextLink.`,
      { code: ErrorCode.GRAPH_EMPTY_PAGES, kind: 'transient' },
    );
  }
  if (skipOf(nextLink) > GRAPH_MAX_SKIP) return restartStep(input.queryFrom, input.highest);
  return { action: 'follow', url: nextLink };
}

/**
 * `@odata.count` moved between two pages of one query: incidents left (changed past the window's end) or
 * joined earlier positions, so `$skip` offsets have shifted and the page just read may have skipped one.
 * That page must not be used (its checkpoint could pass the skipped incident); the query restarts at the
 * highest instant seen before it, which re-reads everything from there. Restarts are bounded by the caller.
 */
export function isDrifted(previousCount: number | undefined, pageCount: number | undefined, url: string): boolean {
  return previousCount !== undefined && pageCount !== undefined && pageCount !== previousCount && skipOf(url) > 0;
}

/** Restart at the highest instant seen — only when that is past the current query's start. */
export function restartStep(queryFrom: string, highest: string | undefined): GraphStep {
  if (highest === undefined || compareInstants(highest, queryFrom) <= 0) {
    throw new CollectorError(
      `More than ${GRAPH_MAX_SKIP} Graph incidents share lastUpdateDateTime ${queryFrom}; Graph's $skip limit cannot page past them.`,
      { code: ErrorCode.GRAPH_INSTANT_OVERFLOW, kind: 'permanent' },
    );
  }
  return { action: 'restart', from: highest };
}
