/**
 * A pipeline policy that observes every Table Storage request a client sends (position 'perCall', so once per
 * logical request, before retries): counts round trips per table and method, and dissects `$batch` bodies —
 * operations per changeset, distinct PartitionKeys, body size — so tests and the benchmark can check the
 * transaction limits by observation rather than by trusting the planner.
 */
import type { AdditionalPolicies } from '../../../shared/adapters/tables/tableClients.js';

export interface BatchObservation {
  readonly table: string;
  readonly operations: number;
  readonly partitionKeys: readonly string[];
  readonly bodyBytes: number;
}

export interface RequestCounter {
  readonly additionalPolicies: AdditionalPolicies;
  /** Round trips seen since the last reset. */
  readonly total: number;
  /** Round trips by `${METHOD} ${table}` (`POST $batch` for transactions). */
  readonly byKind: ReadonlyMap<string, number>;
  readonly batches: readonly BatchObservation[];
  reset(): void;
}

const OPERATION_LINE = /^(GET|POST|PUT|PATCH|MERGE|DELETE) (\S+) HTTP\/1\.1\r?$/gm;

function tableOf(url: string): string {
  const path = new URL(url).pathname.split('/').filter(Boolean);
  // Azurite paths start with the account name; Azure's do not.
  const last = path[path.length - 1] ?? '';
  return decodeURIComponent(last.replace(/\(.*$/, ''));
}

function partitionKeysOf(body: string): string[] {
  const keys = new Set<string>();
  for (const m of body.matchAll(/PartitionKey='((?:[^']|'')*)'/g))
    keys.add(decodeURIComponent((m[1] ?? '').replace(/''/g, "'")));
  for (const m of body.matchAll(/"PartitionKey":"((?:[^"\\]|\\.)*)"/g))
    keys.add(JSON.parse(`"${m[1] ?? ''}"`) as string);
  return [...keys];
}

/** Take a multipart `$batch` body apart. */
export function observeBatch(body: string): Omit<BatchObservation, 'table'> & { tables: string[] } {
  const operations = [...body.matchAll(OPERATION_LINE)];
  return {
    operations: operations.length,
    partitionKeys: partitionKeysOf(body),
    bodyBytes: Buffer.byteLength(body, 'utf8'),
    tables: [...new Set(operations.map((m) => tableOf(m[2] ?? '')))],
  };
}

export function createRequestCounter(): RequestCounter {
  let total = 0;
  const byKind = new Map<string, number>();
  let batches: BatchObservation[] = [];
  const policy: AdditionalPolicies[number]['policy'] = {
    name: 'requestCounter',
    sendRequest: async (request, next) => {
      total++;
      const isBatch = new URL(request.url).pathname.endsWith('/$batch');
      const kind = isBatch ? 'POST $batch' : `${request.method} ${tableOf(request.url)}`;
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
      if (isBatch && typeof request.body === 'string') {
        const seen = observeBatch(request.body);
        batches.push({
          table: seen.tables.join(','),
          operations: seen.operations,
          partitionKeys: seen.partitionKeys,
          bodyBytes: seen.bodyBytes,
        });
      }
      return next(request);
    },
  };
  return {
    additionalPolicies: [{ policy, position: 'perCall' }],
    get total() {
      return total;
    },
    byKind,
    get batches() {
      return batches;
    },
    reset() {
      total = 0;
      byKind.clear();
      batches = [];
    },
  };
}
