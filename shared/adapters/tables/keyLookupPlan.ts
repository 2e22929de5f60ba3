/**
 * Planning the reads of a page's stored rows with as few queries as possible. Azure allows at most 15 discrete
 * comparisons in one $filter, so a query names at most 14 RowKeys (plus the PartitionKey). When the keys are
 * clustered — equal-length decimal IDs, as Graph and the legacy API issue them — one range query
 * (`RowKey ge min and RowKey le max`) reads them all in one round trip instead.
 */

export const MAX_FILTER_COMPARISONS = 15;
/** RowKeys per `eq … or …` query: the PartitionKey comparison takes one of the 15. */
export const MAX_KEYS_PER_QUERY = MAX_FILTER_COMPARISONS - 1;
/** A range query is used while it can span at most this many possible IDs (one page of query results). */
export const MAX_RANGE_SPAN = 1000;

export type KeyLookup =
  | { readonly kind: 'keys'; readonly keys: readonly string[] }
  | { readonly kind: 'range'; readonly from: string; readonly to: string };

const DECIMAL = /^\d+$/;

/** Number of possible IDs between the smallest and largest key, when all are decimal of one length. */
function decimalSpan(sorted: readonly string[]): bigint | undefined {
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (first === undefined || last === undefined) return undefined;
  if (!sorted.every((k) => DECIMAL.test(k) && k.length === first.length)) return undefined;
  return BigInt(last) - BigInt(first) + 1n;
}

export function planKeyLookups(keys: Iterable<string>): KeyLookup[] {
  const sorted = [...new Set(keys)].sort();
  if (sorted.length === 0) return [];
  if (sorted.length <= MAX_KEYS_PER_QUERY) return [{ kind: 'keys', keys: sorted }];
  const span = decimalSpan(sorted);
  if (span !== undefined && span <= BigInt(MAX_RANGE_SPAN)) {
    return [{ kind: 'range', from: sorted[0] as string, to: sorted[sorted.length - 1] as string }];
  }
  const lookups: KeyLookup[] = [];
  for (let i = 0; i < sorted.length; i += MAX_KEYS_PER_QUERY)
    lookups.push({ kind: 'keys', keys: sorted.slice(i, i + MAX_KEYS_PER_QUERY) });
  return lookups;
}

function quote(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The $filter of one lookup within a partition; never more than 15 comparisons. */
export function lookupFilter(partitionKey: string, lookup: KeyLookup): string {
  const pk = `PartitionKey eq ${quote(partitionKey)}`;
  if (lookup.kind === 'range') return `${pk} and RowKey ge ${quote(lookup.from)} and RowKey le ${quote(lookup.to)}`;
  return `${pk} and (${lookup.keys.map((k) => `RowKey eq ${quote(k)}`).join(' or ')})`;
}

/** Count of comparison operators in a filter (for tests and assertions). */
export function comparisonCount(filter: string): number {
  return (filter.replace(/'(?:[^']|'')*'/g, "''").match(/\b(eq|ne|gt|ge|lt|le)\b/g) ?? []).length;
}
