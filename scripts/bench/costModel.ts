/**
 * A monthly cost model per 1,000 tenants with hourly runs (issue 15 goal 7), computed from counts the benchmark
 * measured in the hourly workload — Table round trips, versions written, incident sizes, the run's wall time —
 * and a price table that names its source and date. List prices in USD, pay-as-you-go, East US; free grants are
 * left out (they belong to the subscription, not to the collector), so the model is an upper bound for small
 * deployments. Prices change: re-check the pages named before quoting a figure to anyone.
 */
import { FULL_PASS_INTERVAL_MS } from '../../shared/usecases/deliver.js';

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

/** Columns of a stored row besides its payload (keys, summary columns, names), bytes. */
const ROW_OVERHEAD_BYTES = 1_024;
/**
 * One event row as the service counts it (entitySize.ts azureEntitySize: 4 + 2 × key lengths + per property 8 +
 * 2 × name length + value), bytes: the mean the delivery workload measured on the 2,000 Graph versions the collector
 * stored (523 B; keys are a 36-character tenant GUID and `~ev_` + 16 digits, six columns). The workload prints its
 * own measurement beside this figure.
 */
export const EVENT_ROW_BYTES = 523;

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
  const storedGbPerMonth = (versions * ((input.meanCompressedBytes * 4) / 3 + ROW_OVERHEAD_BYTES)) / 2 ** 30;
  const eventRowGbPerMonth = (versions * EVENT_ROW_BYTES) / 2 ** 30;
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
      unit: 'GB of history rows (each month adds this, billed every month after)',
      usd: storedGbPerMonth * p.tableStoredGb.usd,
    },
    {
      item: 'Table storage added per month by event rows',
      quantity: eventRowGbPerMonth,
      unit: `GB, ${EVENT_ROW_BYTES} B per version (billed every month after)`,
      usd: eventRowGbPerMonth * p.tableStoredGb.usd,
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

/** Timer ticks of `deliverEvents` per month (schedule `0 * * * * *`: every minute). */
export const DELIVERY_PASSES_PER_MONTH = 60 * HOURS_PER_MONTH;

/** Timer passes per full pass (deliver.ts FULL_PASS_INTERVAL_MS with a pass each minute): 15. */
export const DELIVERY_PASSES_PER_FULL_PASS = FULL_PASS_INTERVAL_MS / 60_000;

/**
 * What the delivery workload measured, for the delivery side of the monthly model (webhook subscriptions; the Logs
 * Ingestion volume is the collection model's line). Steady state: hourly collections, every event sent by the next
 * timer pass, one pair (subscription, tenant) with work per tenant with events per hour.
 */
export interface DeliveryCostInput {
  /** Registered tenants of the measured idle pass (T). */
  readonly tenants: number;
  /** Active subscriptions of the measured idle pass (S). */
  readonly subscriptions: number;
  /**
   * Table round trips of one ordinary idle pass (the tenants' delivery hints trusted), measured: 2 + S, plus one per
   * tenant the pass still reads (no hint, or a missing cursor).
   */
  readonly idlePassRoundTrips: number;
  /** Wall time of that pass at the run's Table latency, ms. */
  readonly idlePassWallMs: number;
  /** Table round trips of one full idle pass (every tenant's event log read), measured: 2 + S + T. */
  readonly fullPassRoundTrips: number;
  /** Wall time of that pass at the run's Table latency, ms. */
  readonly fullPassWallMs: number;
  /** Table round trips per event sent, beyond the pass-level queries (the CloudEvent's reads). */
  readonly roundTripsPerEvent: number;
  /** Table round trips per pair with work (lease, pair query, cursor write, pending rows). */
  readonly roundTripsPerPair: number;
  /** Deliverer wall time per event while sending a backlog (what the timer bills beyond its idle pass), ms. */
  readonly wallMsPerEvent: number;
  /** Events per tenant per hourly collection (the hourly workload's change rate). */
  readonly eventsPerTenantPerHour: number;
  /** Share of tenants with at least one event per hour (pairs with work per tenant). */
  readonly tenantsWithEventsShare: number;
  /** Flex Consumption instance memory (the Bicep's instanceMemoryMB). */
  readonly instanceMemoryMB: number;
}

/** Queries a delivery pass runs at once (deliver.ts: the subscription states and the tenants' event logs, 8 at a time). */
const PASS_QUERY_CONCURRENCY = 8;

/**
 * Round-trip times one idle pass waits in a row with S subscriptions and T tenants: the Subscriptions list, the Tenants
 * list, then the S DeliveryState partitions and the T event-log reads, each 8 at a time (deliver.ts). The idle pass's
 * wall time is scaled from the measured T to 1,000 tenants by this count.
 */
export function idlePassSteps(subscriptions: number, tenants: number): number {
  return 2 + Math.ceil(subscriptions / PASS_QUERY_CONCURRENCY) + Math.ceil(tenants / PASS_QUERY_CONCURRENCY);
}

/**
 * Monthly delivery lines per 1,000 tenants: the `deliverEvents` timer's executions and GB-seconds (an idle pass
 * every minute — of every DELIVERY_PASSES_PER_FULL_PASS, one full pass, its wall time scaled from the measured T to
 * 1,000 tenants by idlePassSteps, and the others ordinary passes, the tenants they still read scaled the same way —
 * plus the sending time of the month's events), the idle passes' Table queries (per tick on average: the measured
 * 2 + S, plus 1,000 tenants' event logs every full pass, plus the share of tenants an ordinary pass still reads) and the
 * webhook delivery's Table operations (per event and per pair with work). Event-row storage is the collection model's
 * line (it grows with versions, not with deliveries). RangeError without both measured idle passes.
 */
export function monthlyDeliveryCost(input: DeliveryCostInput): CostLine[] {
  if (input.tenants < 1 || input.idlePassRoundTrips < 1 || input.fullPassRoundTrips < input.tenants)
    throw new RangeError('The delivery cost needs a measured idle pass and a measured full pass.');
  const p = PRICES;
  const fixed = input.fullPassRoundTrips - input.tenants; // 2 + S: the pass's list queries and state partitions
  // Tenants an ordinary pass still reads (no hint yet, or a missing cursor), as a share of T, scaled to 1,000.
  const stillRead = (Math.max(0, input.idlePassRoundTrips - fixed) / input.tenants) * 1_000;
  const every = DELIVERY_PASSES_PER_FULL_PASS;
  const idleQueries = fixed + (1_000 + stillRead * (every - 1)) / every;
  const scaled = (wallMs: number, measuredReads: number, reads: number) =>
    (wallMs * idlePassSteps(input.subscriptions, reads)) / idlePassSteps(input.subscriptions, measuredReads);
  const fullWallMs = scaled(input.fullPassWallMs, input.tenants, 1_000);
  const ordinaryWallMs = scaled(input.idlePassWallMs, input.idlePassRoundTrips - fixed, stillRead);
  const idleWallMs = (fullWallMs + ordinaryWallMs * (every - 1)) / every;
  const ticks = DELIVERY_PASSES_PER_MONTH;
  const events = 1_000 * input.eventsPerTenantPerHour * HOURS_PER_MONTH;
  const pairs = 1_000 * input.tenantsWithEventsShare * HOURS_PER_MONTH;
  const gbSeconds = ((ticks * idleWallMs + events * input.wallMsPerEvent) / 1000) * (input.instanceMemoryMB / 1024);
  const idleTransactions = ticks * idleQueries;
  const sendTransactions = events * input.roundTripsPerEvent + pairs * input.roundTripsPerPair;
  return [
    {
      item: 'deliverEvents executions',
      quantity: ticks,
      unit: 'executions (every minute)',
      usd: (ticks / 1e6) * p.functionsExecutions.usd,
    },
    {
      item: 'deliverEvents GB-seconds',
      quantity: gbSeconds,
      unit: `GB-s (idle passes of ${(idleWallMs / 1000).toFixed(2)} s on average: ${(ordinaryWallMs / 1000).toFixed(2)} s, ${(fullWallMs / 1000).toFixed(2)} s every ${every}th; + sending)`,
      usd: gbSeconds * p.functionsGbSecond.usd,
    },
    {
      item: 'Table transactions of idle passes',
      quantity: idleTransactions,
      unit: `transactions (${idleQueries.toFixed(1)} queries per pass on average: 2 + S, + T every ${every}th pass)`,
      usd: (idleTransactions / 1e4) * p.tableTransactions.usd,
    },
    {
      item: 'Table transactions of webhook delivery',
      quantity: sendTransactions,
      unit: `transactions (${input.roundTripsPerEvent.toFixed(2)} per event + ${input.roundTripsPerPair.toFixed(1)} per tenant with events)`,
      usd: (sendTransactions / 1e4) * p.tableTransactions.usd,
    },
  ];
}
