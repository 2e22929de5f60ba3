/** All Table Storage adapters over one set of lazily built clients (what the composition root wires in). */
import type { StorageSettings } from '../../config/settings.js';
import type { Clock } from '../../ports.js';
import { TableConsentStateStore } from './consentStateStore.js';
import { TableEventLog } from './eventLog.js';
import { TableHistoryPruner } from './historyPruner.js';
import { TableIncidentReader } from './incidentReader.js';
import { TableDeliveryStateStore } from './deliveryStateStore.js';
import { TableSubscriptionStore } from './subscriptionStore.js';
import { TableLeaseStore } from './leaseStore.js';
import { TableQuarantineStore } from './quarantineStore.js';
import { TableRunStore } from './runStore.js';
import { TableSnapshotStore } from './snapshotStore.js';
import { createTableClients, type TableClients, type TableClientsOptions } from './tableClients.js';
import { TableTenantStore } from './tenantStore.js';

export interface TableStoreOptions extends TableClientsOptions {
  readonly clock?: Clock;
  /** Independent transactions/queries in flight per snapshot write (default 4). */
  readonly concurrency?: number;
}

export interface TableStores {
  readonly clients: TableClients;
  readonly tenants: TableTenantStore;
  readonly leases: TableLeaseStore;
  readonly snapshots: TableSnapshotStore;
  readonly runs: TableRunStore;
  readonly consentStates: TableConsentStateStore;
  readonly quarantine: TableQuarantineStore;
  /** The change feed the snapshot store records into (design §9). */
  readonly events: TableEventLog;
  /** Bounded reads for the HTTP read API (design §10). */
  readonly incidents: TableIncidentReader;
  readonly subscriptions: TableSubscriptionStore;
  readonly deliveryState: TableDeliveryStateStore;
  /** The daily prune's store side: old history versions and orphan payload chunks. */
  readonly historyPruner: TableHistoryPruner;
  ensureTables(): Promise<void>;
}

export function createTableStores(storage: StorageSettings, options: TableStoreOptions = {}): TableStores {
  const clients = createTableClients(storage, options);
  const clock = options.clock !== undefined ? { clock: options.clock } : {};
  const snapshots = new TableSnapshotStore(clients, {
    ...clock,
    ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
  });
  return {
    clients,
    tenants: new TableTenantStore(clients),
    leases: new TableLeaseStore(clients, clock),
    snapshots,
    runs: new TableRunStore(clients, clock),
    consentStates: new TableConsentStateStore(clients),
    quarantine: new TableQuarantineStore(clients, clock),
    events: new TableEventLog(clients, snapshots),
    incidents: new TableIncidentReader(clients, snapshots),
    subscriptions: new TableSubscriptionStore(clients),
    deliveryState: new TableDeliveryStateStore(clients),
    historyPruner: new TableHistoryPruner(clients),
    ensureTables: () => clients.ensureTables(),
  };
}
