/**
 * A monthly cost model per 1,000 tenants with hourly runs (issue 15 goal 7), computed from counts the benchmark
 * measured in the hourly workload — Table round trips, versions written, incident sizes, the run's wall time —
 * and a price table that names its source and date. List prices in USD, pay-as-you-go, East US; free grants are
 * left out (they belong to the subscription, not to the collector), so the model is an upper bound for small
 * deployments. Prices change: re-check the pages named before quoting a figure to anyone.
 */

export interface PriceEntry {
  readonly usd: number;
  readonly per: string;
  readonly source: string;
}

/** The price table the model uses. `asOf` is the date the prices were read from their source. */
export const PRICES = {
  asOf: '2025-05-22',
  functionsGbSecond: {
    usd: 0.000026,
    per: 'GB-s (Flex Consumption, on demand)',
    source:
      'https://azure.microsoft.com/pricing/details/functions/ (as quoted by modal.com/blog/azure-function-pricing-guide, 2025-05-22)',
  },
  functionsExecutions: {
    usd: 0.4,
    per: 'million executions (Flex Consumption, on demand)',
    source: 'https://azure.microsoft.com/pricing/details/functions/',
  },
  tableTransactions: {
    usd: 0.00036,
    per: '10,000 Table transactions (Standard LRS; a batch is one transaction)',
    source: 'https://azure.microsoft.com/pricing/details/storage/tables/',
  },
  tableStoredGb: {
    usd: 0.045,
    per: 'GB-month stored (Table, Standard LRS)',
    source: 'https://azure.microsoft.com/pricing/details/storage/tables/',
  },
  queueOperations: {
    usd: 0.0004,
    per: '10,000 queue operations (Standard LRS)',
    source: 'https://azure.microsoft.com/pricing/details/storage/queues/',
  },
  keyVaultOperations: {
    usd: 0.03,
    per: '10,000 Key Vault operations (Standard, secrets)',
    source: 'https://azure.microsoft.com/pricing/details/key-vault/',
  },
  logsIngestionGb: {
    usd: 2.3,
    per: 'GB ingested (Log Analytics, Analytics logs, pay-as-you-go)',
    source: 'https://azure.microsoft.com/pricing/details/monitor/',
  },
} as const satisfies Record<string, PriceEntry | string>;

export const HOURS_PER_MONTH = 730;

/** What one measured hourly run tells the model (all per run, for the tenants it covered). */
export interface CostInput {
  readonly tenants: number;
  /** Wall time of the run in one process (one instance) at the default concurrency, ms. */
  readonly wallMs: number;
  /** Flex Consumption instance memory (the Bicep's instanceMemoryMB), billed while the instance executes. */
  readonly instanceMemoryMB: number;
  readonly tableRoundTrips: number;
  readonly versionsWritten: number;
  /** Mean gzip size of an incident payload, bytes. */
  readonly meanCompressedBytes: number;
  /** Mean UTF-8 JSON size of an incident, bytes (a Logs Ingestion row carries it uncompressed). */
  readonly meanIncidentBytes: number;
}

export interface CostLine {
  readonly item: string;
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

/** Columns of a stored row besides its payload, and of an event row (keys, summary columns, names), bytes. */
const ROW_OVERHEAD_BYTES = 1_024;
const EVENT_ROW_BYTES = 600;

/** Monthly lines per 1,000 tenants; Logs Ingestion only when that sink is on. */
export function monthlyCost(input: CostInput, logsIngestionOn: boolean): CostLine[] {
  const scale = (1_000 / input.tenants) * HOURS_PER_MONTH;
  const executions = (input.tenants + 1) * scale; // one queue message per tenant, one timer per run
  const gbSeconds =
    (input.wallMs / 1000) * (input.instanceMemoryMB / 1024) * (HOURS_PER_MONTH * (1_000 / input.tenants));
  const transactions = input.tableRoundTrips * scale;
  const queueOps = input.tenants * 3 * scale; // put, get (dequeue), delete per message
  const versions = input.versionsWritten * scale;
  // Each month's versions stay (HISTORY_RETENTION_DAYS=0): history row + event row; latest rows are replaced.
  const storedGbPerMonth =
    (versions * ((input.meanCompressedBytes * 4) / 3 + ROW_OVERHEAD_BYTES + EVENT_ROW_BYTES)) / 2 ** 30;
  const keyVaultOps = HOURS_PER_MONTH; // the partner secret, read once per process per run (one instance)
  const logsGb = (versions * (input.meanIncidentBytes + 400)) / 2 ** 30;
  const p = PRICES;
  const lines: CostLine[] = [
    {
      item: 'Functions executions',
      quantity: executions,
      unit: 'executions',
      usd: (executions / 1e6) * p.functionsExecutions.usd,
    },
    { item: 'Functions GB-seconds', quantity: gbSeconds, unit: 'GB-s', usd: gbSeconds * p.functionsGbSecond.usd },
    {
      item: 'Table transactions',
      quantity: transactions,
      unit: 'transactions',
      usd: (transactions / 1e4) * p.tableTransactions.usd,
    },
    {
      item: 'Table storage added per month',
      quantity: storedGbPerMonth,
      unit: 'GB (each month adds this, billed every month after)',
      usd: storedGbPerMonth * p.tableStoredGb.usd,
    },
    { item: 'Queue operations', quantity: queueOps, unit: 'operations', usd: (queueOps / 1e4) * p.queueOperations.usd },
    {
      item: 'Key Vault operations',
      quantity: keyVaultOps,
      unit: 'operations',
      usd: (keyVaultOps / 1e4) * p.keyVaultOperations.usd,
    },
  ];
  if (logsIngestionOn)
    lines.push({ item: 'Logs Ingestion (sink on)', quantity: logsGb, unit: 'GB', usd: logsGb * p.logsIngestionGb.usd });
  return lines;
}

export const totalUsd = (lines: readonly CostLine[]): number => lines.reduce((sum, l) => sum + l.usd, 0);
