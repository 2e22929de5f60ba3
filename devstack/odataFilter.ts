/**
 * The part of OData `$filter` the incident APIs need here: `<field> ge|gt|le|lt <datetime>` clauses joined by
 * `and`. Datetimes may be bare (as Graph writes them) or quoted; they are compared at 100 ns as fixed-width
 * strings. Anything else is a syntax error the simulators answer with 400.
 */
import { toFixedWidth } from '../shared/domain/time.js';

export type ComparisonOp = 'ge' | 'gt' | 'le' | 'lt';

export interface TimeClause {
  readonly field: string;
  readonly op: ComparisonOp;
  /** Fixed-width UTC (`YYYY-MM-DDTHH:mm:ss.fffffffZ`). */
  readonly value: string;
}

export class ODataFilterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ODataFilterError';
  }
}

const CLAUSE = /^\s*([A-Za-z]+)\s+(ge|gt|le|lt)\s+('?)([0-9T:.\-+Z]+)\3\s*$/;

/** Parse `$filter`; `fields` lists the field names allowed. */
export function parseTimeFilter(filter: string, fields: readonly string[]): TimeClause[] {
  if (filter.trim() === '') throw new ODataFilterError('Invalid filter clause: the filter is empty.');
  return filter.split(/\s+and\s+/).map((part) => {
    const m = CLAUSE.exec(part);
    if (!m) throw new ODataFilterError(`Invalid filter clause: '${part.trim()}' is not supported.`);
    const [, field = '', op = 'ge', , literal = ''] = m;
    if (!fields.includes(field))
      throw new ODataFilterError(`Invalid filter clause: filtering on '${field}' is not supported.`);
    try {
      return { field, op: op as ComparisonOp, value: toFixedWidth(literal) };
    } catch {
      throw new ODataFilterError(`Invalid filter clause: '${literal}' is not a valid DateTimeOffset.`);
    }
  });
}

/** True when the fixed-width instant satisfies every clause on `field`. */
export function matchesClauses(clauses: readonly TimeClause[], field: string, fixed: string): boolean {
  return clauses.every((c) => c.field !== field || compare(fixed, c.op, c.value));
}

function compare(a: string, op: ComparisonOp, b: string): boolean {
  switch (op) {
    case 'ge':
      return a >= b;
    case 'gt':
      return a > b;
    case 'le':
      return a <= b;
    case 'lt':
      return a < b;
  }
}

/** The tightest [from, to] bounds (inclusive flags) the clauses put on `field`, for index range lookups. */
export function boundsFor(
  clauses: readonly TimeClause[],
  field: string,
): { from?: string; fromInclusive: boolean; to?: string; toInclusive: boolean } {
  let from: string | undefined;
  let fromInclusive = true;
  let to: string | undefined;
  let toInclusive = true;
  for (const c of clauses) {
    if (c.field !== field) continue;
    if (c.op === 'ge' || c.op === 'gt') {
      const inclusive = c.op === 'ge';
      if (from === undefined || c.value > from || (c.value === from && !inclusive)) {
        from = c.value;
        fromInclusive = inclusive;
      }
    } else {
      const inclusive = c.op === 'le';
      if (to === undefined || c.value < to || (c.value === to && !inclusive)) {
        to = c.value;
        toInclusive = inclusive;
      }
    }
  }
  return { ...(from !== undefined ? { from } : {}), fromInclusive, ...(to !== undefined ? { to } : {}), toInclusive };
}
