/**
 * Counts Table Storage round trips of one process: a pipeline policy in the 'perCall' position (once per
 * logical request, before the SDK's retries), keyed `POST $batch` for transactions and `METHOD table` otherwise;
 * a query of a tenant's event rows (a filter on RowKeys `~ev_…`: the event sequence seed, the event log's reads) is
 * keyed `GET IncidentHistory (event rows)`, so the delivery workload can tell them from the version reads.
 */
import { EVENT_ROW_PREFIX } from '../../shared/adapters/tables/keys.js';
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

function tableOf(url: URL): string {
  const segments = url.pathname.split('/').filter(Boolean);
  return decodeURIComponent((segments[segments.length - 1] ?? '').replace(/\(.*$/, ''));
}

/** The event rows' RowKey prefix as it starts a quoted filter value. */
const EVENT_ROW_FILTER = `'${EVENT_ROW_PREFIX}`;

function kindOf(method: string, url: URL): string {
  if (url.pathname.endsWith('/$batch')) return 'POST $batch';
  const table = tableOf(url);
  if (method === 'GET' && table === 'IncidentHistory' && decodeURIComponent(url.search).includes(EVENT_ROW_FILTER))
    return 'GET IncidentHistory (event rows)';
  return `${method} ${table}`;
}

export function countTableRoundTrips(): TableRoundTrips {
  const kinds = new Map<string, number>();
  let operations = 0;
  const policy: AdditionalPolicies[number]['policy'] = {
    name: 'benchTableRoundTrips',
    sendRequest: async (request, next) => {
      const kind = kindOf(request.method, new URL(request.url));
      kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
      if (kind === 'POST $batch' && typeof request.body === 'string') operations += countOperations(request.body);
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
