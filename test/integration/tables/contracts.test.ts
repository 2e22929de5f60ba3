/** The Table adapters on Azurite pass the same contract suites as the in-memory fakes (test/unit/contracts). */
import { afterAll, beforeAll } from '@jest/globals';
import { consentStateStoreContract } from '../../contracts/consentStateStore.contract.js';
import { eventLogContract } from '../../contracts/eventLog.contract.js';
import {
  deliveryStateStoreContract,
  subscriptionSecretsContract,
  subscriptionStoreContract,
} from '../../contracts/delivery.contract.js';
import { TableSubscriptionSecrets } from '../../../shared/adapters/delivery/tableSubscriptionSecrets.js';
import { leaseStoreContract } from '../../contracts/leaseStore.contract.js';
import { runStoreContract } from '../../contracts/runStore.contract.js';
import { snapshotStoreContract } from '../../contracts/snapshotStore.contract.js';
import { tenantStoreContract } from '../../contracts/tenantStore.contract.js';
import { ManualClock } from '../../fakes/clock.js';
import { startTables, type TableFixture } from './tableFixture.js';

const clock = new ManualClock();
let fx: TableFixture;

beforeAll(async () => {
  fx = await startTables({ clock });
});

afterAll(async () => {
  await fx?.stop();
});

tenantStoreContract('Table adapter on Azurite', () => fx.stores.tenants);
leaseStoreContract('Table adapter on Azurite', () => ({ store: fx.stores.leases, clock }));
runStoreContract('Table adapter on Azurite', () => ({ store: fx.stores.runs, clock }));
snapshotStoreContract('Table adapter on Azurite', () => fx.stores.snapshots);
consentStateStoreContract('Table adapter on Azurite', () => fx.stores.consentStates);
eventLogContract('Table adapter on Azurite', () => ({ store: fx.stores.snapshots, events: fx.stores.events, clock }));
subscriptionStoreContract('Table adapter on Azurite', () => fx.stores.subscriptions);
deliveryStateStoreContract('Table adapter on Azurite', () => fx.stores.deliveryState);
subscriptionSecretsContract('Table adapter on Azurite', () => new TableSubscriptionSecrets(fx.stores.clients));
