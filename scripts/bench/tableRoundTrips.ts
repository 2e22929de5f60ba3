/**
 * Counts Table Storage round trips of one process: a pipeline policy in the 'perCall' position (once per
 * logical request, before the SDK's retries), keyed `POST $batch` for transactions and `METHOD table` otherwise.
 */
import type { AdditionalPolicies } from '../../shared/adapters/tables/tableClients.js';

export interface TableRoundTrips {
  readonly additionalPolicies: AdditionalPolicies;
  total(): number;
  byKind(): Record<string, number>;
  /** Operations carried by transactions (to show how full the batches were). */
  batchedOperations(): number;
}

/** Each operation of a changeset has one request line ending like this; indexOf is cheap on ~1 MB bodies. */
const REQUEST_LINE_END = ' HTTP/1.1\r\n';

function countOperations(body: string): number {
  let count = 0;
  for (let at = body.indexOf(REQUEST_LINE_END); at >= 0; at = body.indexOf(REQUEST_LINE_END, at + 1)) count++;
  return count;
}

function tableOf(url: string): string {
  const segments = new URL(url).pathname.split('/').filter(Boolean);
  return decodeURIComponent((segments[segments.length - 1] ?? '').replace(/\(.*$/, ''));
}

export function countTableRoundTrips(): TableRoundTrips {
  const kinds = new Map<string, number>();
  let operations = 0;
  const policy: AdditionalPolicies[number]['policy'] = {
    name: 'benchTableRoundTrips',
    sendRequest: async (request, next) => {
      const isBatch = new URL(request.url).pathname.endsWith('/$batch');
      const kind = isBatch ? 'POST $batch' : `${request.method} ${tableOf(request.url)}`;
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (isBatch && typeof request.body === 'string') operations += countOperations(request.body);
      return next(request);
    },
  };
  return {
    additionalPolicies: [{ policy, position: 'perCall' }],
    total: () => [...kinds.values()].reduce((sum, n) => sum + n, 0),
    byKind: () => Object.fromEntries([...kinds].sort((a, b) => b[1] - a[1])),
    batchedOperations: () => operations,
  };
}
