/**
 * Delivery (issue 11's figures, issue 15's cost model): events per second delivered, and what recording an event
 * adds to each incident version.
 *
 * Steps on one stack: a webhook subscription to the stack's receiver (it verifies every Standard Webhooks signature),
 * then a backfill of `tenants` × `incidentsPerTenant` by the collector child (one event per version, no latency: set-up
 * and the source of the recording figures). Then, with `postMs` per receiver answer and `tableMs` per Table round trip
 * (TableLatencyProxy in front of Azurite, as in the hourly workload), the deliverer child (deliverChild.ts: the
 * product's delivery passes, as the timer makes them) sends the backlog and makes one ordinary idle pass (the
 * tenants' delivery hints trusted: 2 + S queries) and one full idle pass (every tenant's event log read, as the
 * timer does every 15 minutes: 2 + S + T). Then the webhook subscription is removed and
 * a Logs Ingestion subscription (the stack's simulator) is added and replayed from the first event, and a second
 * deliverer child sends the same events in batches. Each run must deliver every version's event exactly once.
 *
 * The recording figures come from the rows the collector stored (read back from Azurite): the event row's size as the
 * service counts it (entitySize.ts), the product's transaction planner run over the same versions with and without
 * their event rows, the event-sequence seed reads the collector's child counted, and a micro-measure of the CPU of
 * building an event row and sizing it for its transaction.
 */
import { TableClient } from '@azure/data-tables';
import {
  MAX_BATCH_OPERATIONS,
  operationSize,
  planBatches,
  planGroupedBatches,
} from '../../../shared/adapters/tables/batchPlanner.js';
import type { BatchOp } from '../../../shared/adapters/tables/batchPlanner.js';
import {
  azureEntitySize,
  wireEntitySize,
  type EntityValue,
  type PlainEntity,
} from '../../../shared/adapters/tables/entitySize.js';
import { EVENT_ROW_PREFIX, tenantKey } from '../../../shared/adapters/tables/keys.js';
import { GRAPH_MAX_PAGE_SIZE } from '../../../shared/adapters/graphSource.js';
import { M365D_MAX_PAGE_SIZE } from '../../../shared/adapters/m365dSource.js';
import { loadSettings } from '../../../shared/config/settings.js';
import { createServices } from '../../../shared/composition.js';
import { registerSecret, silentLogger } from '../../../shared/log.js';
import { addSubscription, removeSubscription, replaySubscription } from '../../../shared/usecases/subscriptions.js';
import { viaTablePort } from '../../reliability/tableProxy.js';
import { startBenchStack, type BenchStack } from '../benchStack.js';
import type { DeliverChildReport } from '../childProtocol.js';
import type { ChildScript } from '../childScript.js';
import { runChildProcess, runCollectorProcess, type CollectorRun } from '../collectorProcess.js';
import {
  DELIVERY_PASSES_PER_FULL_PASS,
  EVENT_ROW_BYTES,
  monthlyDeliveryCost,
  totalUsd,
  type CostLine,
} from '../costModel.js';
import { deployedSettings } from '../deployedSettings.js';
import { ratio, seconds, type FigureRow } from '../report.js';
import { TableLatencyProxy } from '../tableLatencyProxy.js';
import { summarize, type WorkloadResult } from './fleet.js';

export interface DeliveryConfig {
  /** Tenants collected (each has its events; T of the idle pass). */
  readonly tenants: number;
  readonly incidentsPerTenant: number;
  /** Added to each answer of the webhook receiver and of the Logs Ingestion simulator, ms. */
  readonly postMs: number;
  /** Added to each Table round trip of the deliverer by the proxy, ms. */
  readonly tableMs: number;
  /** The hourly workload's change pattern for the cost model: tenant i has i mod (n + 1) changes per hour. */
  readonly hourlyMaxChanges: number;
  /** Rows built per micro-measure pass of the event row's CPU (default 20,000). */
  readonly microRows?: number;
}

/** The scripts the workload runs: the collector child and the deliverer child. */
export interface DeliveryChildren {
  readonly collect: ChildScript;
  readonly deliver: ChildScript;
}

type DeliverRun = DeliverChildReport & { readonly simulatorCpuMs: number; readonly azuriteCpuMs: number | undefined };

/** A run of the deliverer with what the receiving simulator saw. */
interface SinkRun {
  readonly label: string;
  readonly run: DeliverRun;
  /** Calls the sink answered (webhook POSTs; Logs Ingestion uploads). */
  readonly calls: number;
  /** Events the sink accepted (signature verified; rows accepted), all distinct. */
  readonly received: number;
}

/** Round trips of a deliverer stretch split by what they were for (see deliver.ts "Cost of one pass"). */
export interface RoundTripSplit {
  /** Subscriptions and Tenants list queries and each subscription's DeliveryState partition: 2 + S per pass. */
  readonly passLists: number;
  /** Range queries of the tenants' event logs (`~ev_` rows): T per pass, plus pairs reading on their own. */
  readonly eventLog: number;
  /** The CloudEvent's reads (the version's RowKeys, then its row and the previous one): 2 per event sent. */
  readonly eventReads: number;
  /** The pair's own DeliveryState query (cursor + pending rows). */
  readonly pairQuery: number;
  /** Cursor writes (create, or the ETag-guarded merge). */
  readonly cursor: number;
  /** Pending rows and dead letters written or deleted. */
  readonly pending: number;
  /** Pair leases: acquire, renew, release. */
  readonly lease: number;
  /** Anything else (listed in the details). */
  readonly other: number;
}

/**
 * Split a stretch's round trips by purpose from the `METHOD table` counts: DeliveryState GETs beyond the S partition
 * queries per pass are pair queries; a POST or a PATCH/MERGE of DeliveryState is a cursor write (createEntity, or
 * updateEntity Merge with its ETag); a PUT or DELETE there is a pending row or dead letter (upsert Replace, delete).
 */
export function splitRoundTrips(
  byKind: Readonly<Record<string, number>>,
  passes: number,
  subscriptions: number,
): RoundTripSplit {
  const n = (kind: string) => byKind[kind] ?? 0;
  const stateReads = n('GET DeliveryState');
  const passStates = Math.min(stateReads, passes * subscriptions);
  const split = {
    passLists: n('GET Subscriptions') + n('GET Tenants') + passStates,
    eventLog: n('GET IncidentHistory (event rows)'),
    eventReads: n('GET IncidentHistory'),
    pairQuery: stateReads - passStates,
    cursor: n('POST DeliveryState') + n('PATCH DeliveryState') + n('MERGE DeliveryState'),
    pending: n('PUT DeliveryState') + n('DELETE DeliveryState'),
    lease: Object.entries(byKind)
      .filter(([k]) => k.endsWith(' Leases'))
      .reduce((sum, [, v]) => sum + v, 0),
  };
  const total = Object.values(byKind).reduce((sum, v) => sum + v, 0);
  const known = Object.values(split).reduce((sum, v) => sum + v, 0);
  return { ...split, other: total - known };
}

/** What recording events added to the collector's writes, from the stored rows. */
export interface RecordingCost {
  readonly versions: number;
  /**
   * History-table transactions per 1,000 versions the product's planner makes of the stored rows, with their event
   * rows (2,000 operations) and without (1,000), per write size (the collector writes a page at a time).
   */
  readonly planned: readonly PlannedWrites[];
  /** Mean event row size as the service counts it, bytes; and its serialized JSON size. */
  readonly eventRowAzureBytes: number;
  readonly eventRowWireBytes: number;
  /** Mean share of the history transaction body the event row's operation takes (planner estimates). */
  readonly bodyShare: number;
  /** Event-sequence seed reads per tenant collection that recorded events (collector child's count). */
  readonly seedReadsPerCollection: number;
  /** CPU µs per event row: build the entity, size its operation, serialize it (least of 3 passes). */
  readonly cpuUsPerRow: number;
  /** Collector CPU per version of the same backfill, µs (the reference for the row's share). */
  readonly collectorCpuUsPerVersion: number;
}

/** Transactions per 1,000 versions at one write size. */
export interface PlannedWrites {
  /** Versions per write. */
  readonly perWrite: number;
  readonly withEvents: number;
  readonly withoutEvents: number;
}

/** Write sizes planned: an hourly tenant's changes (≤ 5), a Graph page (50), a legacy API page (100). */
const WRITE_SIZES = [5, GRAPH_MAX_PAGE_SIZE, M365D_MAX_PAGE_SIZE] as const;

type Row = Record<string, unknown>;

/** A stored entity as the store wrote it (keys and columns, no metadata; dates as strings). */
function plain(row: Row): PlainEntity {
  const out: Record<string, EntityValue> = {
    partitionKey: String(row.partitionKey),
    rowKey: String(row.rowKey),
  };
  for (const [k, v] of Object.entries(row)) {
    if (k === 'partitionKey' || k === 'rowKey' || k === 'etag' || k === 'timestamp' || k.startsWith('odata')) continue;
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Uint8Array) out[k] = v;
    else if (v instanceof Date) out[k] = v.toISOString();
    else if (v !== null && v !== undefined) out[k] = String((v as { value?: unknown }).value ?? v);
  }
  return out as PlainEntity;
}

/** The event row of one version, built as the snapshot store builds it (snapshotStore.ts writeHistory). */
function buildEventRow(e: PlainEntity): PlainEntity {
  return {
    partitionKey: e.partitionKey,
    rowKey: e.rowKey,
    incidentId: e.incidentId as string,
    lastUpdateTime: e.lastUpdateTime as string,
    type: e.type as string,
    time: e.time as string,
    ...(e.severity !== undefined ? { severity: e.severity as string } : {}),
    historyRowKey: e.historyRowKey as string,
  };
}

/** CPU µs per row of building `rows` again, sizing each as a transaction operation and serializing it (least of 3). */
function eventRowCpuUs(rows: readonly PlainEntity[], perPass: number): number {
  let sink = 0;
  const once = () => {
    for (let i = 0; i < perPass; i++) {
      const row = buildEventRow(rows[i % rows.length] as PlainEntity);
      const op: BatchOp = { kind: 'create', entity: row };
      sink += operationSize(op) + JSON.stringify(row).length;
    }
  };
  once();
  const passes: number[] = [];
  for (let p = 0; p < 3; p++) {
    const before = process.cpuUsage();
    once();
    const used = process.cpuUsage(before);
    passes.push(used.user + used.system);
  }
  if (sink <= 0) throw new Error('The event row micro-measure produced nothing.');
  return Math.min(...passes) / perPass;
}

async function measureRecording(bench: BenchStack, collect: CollectorRun, microRows: number): Promise<RecordingCost> {
  const azurite = bench.stack.azurite;
  if (!azurite) throw new Error('The delivery workload needs Azurite.');
  const history = TableClient.fromConnectionString(azurite.connectionString, 'IncidentHistory', {
    allowInsecureConnection: true,
  });
  const events: PlainEntity[] = [];
  const historyRows = new Map<string, PlainEntity>();
  for (const tenantId of bench.tenantIds) {
    const pk = tenantKey(tenantId);
    for await (const row of history.listEntities<Row>({ queryOptions: { filter: `PartitionKey eq '${pk}'` } })) {
      const entity = plain(row);
      if (entity.rowKey.startsWith(EVENT_ROW_PREFIX)) events.push(entity);
      else historyRows.set(`${pk}|${entity.rowKey}`, entity);
    }
  }
  if (events.length === 0 || events.length !== collect.incidentsChanged)
    throw new Error(`Stored ${events.length} event rows for ${collect.incidentsChanged} versions written.`);

  // The product's planner over the stored versions, with and without their event rows, at the write sizes the
  // collector meets: an hourly tenant's few changes, a Graph page, a legacy page. The rows keep their sizes; their keys
  // are made one partition's distinct keys so one write can hold any W of them.
  const pairs = events.map((event, i) => {
    const h = historyRows.get(`${event.partitionKey}|${String(event.historyRowKey)}`);
    if (!h) throw new Error(`Event ${event.rowKey} has no history row.`);
    const pk = events[0]?.partitionKey ?? '';
    return {
      history: { ...h, partitionKey: pk, rowKey: `${h.rowKey}_${i}` },
      event: { ...event, partitionKey: pk, rowKey: `${event.rowKey}_${i}` },
    };
  });
  const planned = WRITE_SIZES.map((perWrite) => {
    let withTx = 0;
    let withoutTx = 0;
    for (let at = 0; at < pairs.length; at += perWrite) {
      const page = pairs.slice(at, at + perWrite);
      withTx += planGroupedBatches(
        page.map((p) => [
          { kind: 'create', entity: p.history },
          { kind: 'create', entity: p.event },
        ]),
      ).length;
      withoutTx += planBatches(page.map((p) => ({ kind: 'create', entity: p.history }))).length;
    }
    return { perWrite, withEvents: (withTx / pairs.length) * 1000, withoutEvents: (withoutTx / pairs.length) * 1000 };
  });
  let shareSum = 0;
  for (const p of pairs) {
    const e = operationSize({ kind: 'create', entity: p.event });
    shareSum += e / (e + operationSize({ kind: 'create', entity: p.history }));
  }
  const versions = events.length;
  const tenantsWithEvents = collect.changedPerTenant.filter((n) => n > 0).length;
  return {
    versions,
    planned,
    eventRowAzureBytes: events.reduce((sum, e) => sum + azureEntitySize(e), 0) / versions,
    eventRowWireBytes: events.reduce((sum, e) => sum + wireEntitySize(e), 0) / versions,
    bodyShare: shareSum / versions,
    seedReadsPerCollection:
      (collect.tableByKind['GET IncidentHistory (event rows)'] ?? 0) / Math.max(1, tenantsWithEvents),
    cpuUsPerRow: eventRowCpuUs(events, microRows),
    collectorCpuUsPerVersion: (collect.cpuMs * 1000) / versions,
  };
}

export interface DeliveryMeasurement {
  readonly config: DeliveryConfig;
  readonly collect: CollectorRun;
  readonly webhook: SinkRun;
  readonly logs: SinkRun;
  readonly recording: RecordingCost;
}

export async function measureDelivery(
  config: DeliveryConfig,
  children: DeliveryChildren,
): Promise<DeliveryMeasurement> {
  const bench = await startBenchStack({
    tenants: config.tenants,
    incidentsPerTenant: config.incidentsPerTenant,
    seed: 31,
  });
  let proxy: TableLatencyProxy | undefined;
  try {
    const { stack } = bench;
    // This process stores the webhook secret in the stack's subscription vault (HTTPS with the stack's own CA).
    stack.trustInProcess();
    const services = createServices(loadSettings(stack.env), { logger: silentLogger, env: stack.env });
    await services.ready();
    // The webhook subscription first (as the demo does), so every version the backfill writes is an event for it.
    const hook = stack.webhooks.addEndpoint();
    registerSecret(hook.secret);
    const webhookSub = await addSubscription(services.subscriptionDeps(), { url: hook.url, secret: hook.secret });

    const collect = await runCollectorProcess(children.collect.path, bench.collectorEnv('graph'), {}, bench.azuritePid);
    const versions = collect.incidentsChanged;
    if (collect.failed.length > 0 || versions !== config.tenants * config.incidentsPerTenant)
      throw new Error(`The delivery set-up backfill wrote ${versions} versions; ${collect.failed.join('; ')}`);
    const recording = await measureRecording(bench, collect, config.microRows ?? 20_000);

    const azurite = stack.azurite;
    if (!azurite) throw new Error('The delivery workload needs Azurite.');
    proxy = await new TableLatencyProxy(azurite.tablePort, config.tableMs).start();
    const env = { ...stack.env, AzureWebJobsStorage: viaTablePort(azurite.connectionString, proxy.port) };
    stack.webhooks.latencyMs = config.postMs;
    stack.logsIngestion.latencyMs = config.postMs;

    // 1. Webhook: one POST per event, each signature verified by the receiver.
    const postsBefore = stack.webhooks.requests.length;
    const webhookRun = await runChildProcess<DeliverChildReport>(children.deliver.path, env, {}, bench.azuritePid);
    const received = stack.webhooks.to(hook.path);
    const ids = new Set(received.map((d) => d.webhookId));
    if (stack.webhooks.rejected.length > 0 || received.length !== versions || ids.size !== versions)
      throw new Error(
        `The webhook receiver verified ${received.length} deliveries (${ids.size} distinct, ${stack.webhooks.rejected.length} rejected) for ${versions} versions.`,
      );
    const webhook: SinkRun = {
      label: `webhook, ${config.postMs} ms per POST`,
      run: webhookRun,
      calls: stack.webhooks.requests.length - postsBefore,
      received: ids.size,
    };

    // 2. Logs Ingestion: the same events, replayed to a new subscription (the webhook one removed: S stays 1).
    await removeSubscription(services.subscriptionDeps(), webhookSub.id);
    const { endpoint, ruleId, stream } = stack.logAnalytics;
    const logsSub = await addSubscription(services.subscriptionDeps(), {
      logAnalytics: true,
      endpoint,
      ruleId,
      stream,
    });
    await replaySubscription(services.subscriptionDeps(), logsSub.id);
    const uploadsBefore = stack.logsIngestion.uploads.length;
    const logsRun = await runChildProcess<DeliverChildReport>(children.deliver.path, env, {}, bench.azuritePid);
    const rows = stack.logsIngestion.rows(ruleId, stream);
    const rowIds = new Set(
      rows.map((r) => `${String(r.TenantId)}/${String(r.IncidentId)}/${String(r.LastUpdateTime)}`),
    );
    if (rows.length !== versions || rowIds.size !== versions)
      throw new Error(
        `Logs Ingestion accepted ${rows.length} rows (${rowIds.size} distinct) for ${versions} versions.`,
      );
    const logs: SinkRun = {
      label: `Logs Ingestion, ${config.postMs} ms per call`,
      run: logsRun,
      calls: stack.logsIngestion.uploads.slice(uploadsBefore).filter((u) => u.status < 300).length,
      received: rowIds.size,
    };
    return { config, collect, webhook, logs, recording };
  } finally {
    await proxy?.stop();
    await bench.stop();
  }
}

const SUBSCRIPTIONS = 1;

function sinkRows(m: DeliveryMeasurement, sink: SinkRun, versions: number): FigureRow[] {
  const { busy, idle, idleFull } = sink.run;
  const name = `Delivery (${sink.label})`;
  const perSecond = busy.delivered / (busy.wallMs / 1000);
  const split = splitRoundTrips(busy.tableByKind, busy.passes, SUBSCRIPTIONS);
  const per = (x: number) => (x / Math.max(1, busy.delivered)).toFixed(2);
  const perEvent = busy.tableRoundTrips / Math.max(1, busy.delivered);
  return [
    {
      workload: name,
      figure: `events per second (${versions} events of ${m.config.tenants} tenants, ${m.config.tableMs} ms per Table round trip, ${busy.passes} pass(es))`,
      value: perSecond.toFixed(1),
      raw: perSecond,
    },
    {
      workload: name,
      figure: `events per ${sink.label.startsWith('webhook') ? 'POST' : 'batch'} (${sink.calls} calls)`,
      value: (sink.received / Math.max(1, sink.calls)).toFixed(1),
      raw: sink.received / Math.max(1, sink.calls),
    },
    {
      workload: name,
      figure: `Table round trips per event: event reads ${per(split.eventReads)}, event log ${per(split.eventLog)}, pair query ${per(split.pairQuery)}, cursor ${per(split.cursor)}, pending ${per(split.pending)}, lease ${per(split.lease)}, pass lists ${per(split.passLists)}, other ${per(split.other)}`,
      value: perEvent.toFixed(2),
      raw: perEvent,
    },
    {
      workload: name,
      figure: `deliverer CPU per event (${(busy.cpuMs / 1000).toFixed(2)} CPU s; simulators / Azurite ${(sink.run.simulatorCpuMs / 1000).toFixed(1)} / ${sink.run.azuriteCpuMs === undefined ? '?' : (sink.run.azuriteCpuMs / 1000).toFixed(1)} CPU s incl. the idle pass)`,
      value: `${(busy.cpuMs / Math.max(1, busy.delivered)).toFixed(3)} ms`,
      raw: busy.cpuMs / Math.max(1, busy.delivered),
    },
    {
      workload: name,
      figure: `events arrived verified, exactly once (${sink.label.startsWith('webhook') ? 'signatures checked by the receiver' : 'rows accepted by the simulator'}; ${busy.failed} failed attempts)`,
      value: `${sink.received} / ${versions}`,
      raw: sink.received,
      goal: `= ${versions} versions`,
      met: sink.received === versions && busy.pending === 0,
    },
    {
      workload: name,
      figure: `idle pass: Table queries (2 + S = ${2 + SUBSCRIPTIONS}: the tenants' hints show nothing new), wall time`,
      value: `${idle.tableRoundTrips}, ${seconds(idle.wallMs)}`,
      raw: idle.tableRoundTrips,
    },
    {
      workload: name,
      figure: `full idle pass, every ${DELIVERY_PASSES_PER_FULL_PASS}th: Table queries (2 + S + T = ${2 + SUBSCRIPTIONS + m.config.tenants}), wall time`,
      value: `${idleFull.tableRoundTrips}, ${seconds(idleFull.wallMs)}`,
      raw: idleFull.tableRoundTrips,
    },
  ];
}

function recordingRows(r: RecordingCost): FigureRow[] {
  const name = 'Event rows (recording cost)';
  return [
    ...r.planned.map((p) => ({
      workload: name,
      figure: `history-table transactions per 1,000 versions with event rows vs without, ${p.perWrite} versions per write (product planner on the ${r.versions} stored versions; 2,000 vs 1,000 operations; floor ${(2000 / MAX_BATCH_OPERATIONS).toFixed(0)} vs ${(1000 / MAX_BATCH_OPERATIONS).toFixed(0)} at ${MAX_BATCH_OPERATIONS} per transaction)`,
      value: `${p.withEvents.toFixed(1)} vs ${p.withoutEvents.toFixed(1)}`,
      raw: p.withEvents - p.withoutEvents,
    })),
    {
      workload: name,
      figure: `bytes stored per event row as the service counts it (entitySize.ts; JSON on the wire ${r.eventRowWireBytes.toFixed(0)} B; the cost model uses ${EVENT_ROW_BYTES} B)`,
      value: `${r.eventRowAzureBytes.toFixed(0)} B`,
      raw: r.eventRowAzureBytes,
    },
    {
      workload: name,
      figure: `event-row share of a version's history transaction body (planner estimates)`,
      value: `${(r.bodyShare * 100).toFixed(1)} %`,
      raw: r.bodyShare,
    },
    {
      workload: name,
      figure: 'event-sequence seed reads per tenant collection that records events (one keys-only range query)',
      value: r.seedReadsPerCollection.toFixed(2),
      raw: r.seedReadsPerCollection,
    },
    {
      workload: name,
      figure: `CPU per event row: build, size for the transaction, serialize (vs the collector's ${(r.collectorCpuUsPerVersion / 1000).toFixed(3)} ms per version in the same backfill)`,
      value: `${r.cpuUsPerRow.toFixed(1)} µs (${((r.cpuUsPerRow / r.collectorCpuUsPerVersion) * 100).toFixed(2)} %)`,
      raw: r.cpuUsPerRow,
    },
  ];
}

/** The delivery side of the monthly model per 1,000 tenants, from the webhook run (information rows). */
export function deliveryCostRows(
  m: DeliveryMeasurement,
  instanceMemoryMB: number,
): { rows: FigureRow[]; lines: CostLine[] } {
  const { busy, idle, idleFull } = m.webhook.run;
  const split = splitRoundTrips(busy.tableByKind, busy.passes, SUBSCRIPTIONS);
  const pairs = m.config.tenants * busy.passes;
  const n = m.config.hourlyMaxChanges;
  const lines = monthlyDeliveryCost({
    tenants: m.config.tenants,
    subscriptions: SUBSCRIPTIONS,
    idlePassRoundTrips: idle.tableRoundTrips,
    idlePassWallMs: idle.wallMs,
    fullPassRoundTrips: idleFull.tableRoundTrips,
    fullPassWallMs: idleFull.wallMs,
    roundTripsPerEvent: split.eventReads / Math.max(1, busy.delivered),
    roundTripsPerPair:
      (split.pairQuery + split.cursor + split.pending + split.lease + split.other) / Math.max(1, pairs),
    // The busy stretch's first pass is full, the others ordinary: their idle share is not sending time.
    wallMsPerEvent:
      Math.max(0, busy.wallMs - idleFull.wallMs - (busy.passes - 1) * idle.wallMs) / Math.max(1, busy.delivered),
    eventsPerTenantPerHour: n / 2,
    tenantsWithEventsShare: n / (n + 1),
    instanceMemoryMB,
  });
  const name = 'Cost / month / 1,000 tenants (delivery)';
  const rows: FigureRow[] = lines.map((l) => ({
    workload: name,
    figure: `${l.item} (${formatQuantity(l.quantity)} ${l.unit})`,
    value: `$${l.usd.toFixed(2)}`,
    raw: l.usd,
  }));
  rows.push({
    workload: name,
    figure: `total, one webhook subscription (${(n / 2).toFixed(1)} events per tenant per hour; Logs Ingestion volume and event-row storage are in the collection's lines)`,
    value: `$${totalUsd(lines).toFixed(2)}`,
    raw: totalUsd(lines),
  });
  return { rows, lines };
}

/**
 * When the hourly workload ran too: the delivery's monthly lines beside the collection's (per 1,000 tenants, without
 * the Logs Ingestion sink) — Table transactions and dollars, delivery ÷ collection.
 */
export function deliveryVersusCollectionRow(collection: readonly CostLine[], delivery: readonly CostLine[]): FigureRow {
  const base = collection.filter((l) => !l.item.startsWith('Logs Ingestion'));
  const transactions = (lines: readonly CostLine[]) =>
    lines.filter((l) => l.item.startsWith('Table transactions')).reduce((sum, l) => sum + l.quantity, 0);
  const tx = transactions(delivery) / Math.max(1, transactions(base));
  const usd = totalUsd(delivery) / Math.max(1e-9, totalUsd(base));
  return {
    workload: 'Cost / month / 1,000 tenants (delivery)',
    figure: `delivery ÷ collection without the Logs Ingestion sink: Table transactions ${formatQuantity(transactions(delivery))} ÷ ${formatQuantity(transactions(base))}, dollars $${totalUsd(delivery).toFixed(2)} ÷ $${totalUsd(base).toFixed(2)}`,
    value: `${tx.toFixed(1)}× / ${usd.toFixed(1)}×`,
    raw: usd,
  };
}

function formatQuantity(q: number): string {
  if (q >= 1e6) return `${(q / 1e6).toFixed(2)} M`;
  if (q >= 1e3) return `${(q / 1e3).toFixed(1)} k`;
  return q < 10 ? q.toFixed(2) : q.toFixed(0);
}

export async function deliveryWorkload(config: DeliveryConfig, children: DeliveryChildren): Promise<WorkloadResult> {
  const m = await measureDelivery(config, children);
  const versions = m.collect.incidentsChanged;
  const cost = deliveryCostRows(m, deployedSettings().instanceMemoryMB);
  const rows = [
    ...sinkRows(m, m.webhook, versions),
    ...sinkRows(m, m.logs, versions),
    ...recordingRows(m.recording),
    ...cost.rows,
  ];
  const speedUp =
    m.logs.run.busy.delivered / m.logs.run.busy.wallMs / (m.webhook.run.busy.delivered / m.webhook.run.busy.wallMs);
  return {
    rows,
    details: {
      config,
      collect: summarize(m.collect),
      webhook: {
        ...m.webhook,
        split: splitRoundTrips(m.webhook.run.busy.tableByKind, m.webhook.run.busy.passes, SUBSCRIPTIONS),
      },
      logsIngestion: {
        ...m.logs,
        split: splitRoundTrips(m.logs.run.busy.tableByKind, m.logs.run.busy.passes, SUBSCRIPTIONS),
      },
      logsOverWebhookThroughput: ratio(speedUp),
      recording: m.recording,
      cost: { lines: cost.lines },
    },
  };
}
