/** The in-memory fakes pass the same contract suites as the Table adapters (test/integration/tables/contracts.test.ts). */
import { consentStateStoreContract } from '../../contracts/consentStateStore.contract.js';
import { eventLogContract } from '../../contracts/eventLog.contract.js';
import {
  deliveryStateStoreContract,
  subscriptionSecretsContract,
  subscriptionStoreContract,
} from '../../contracts/delivery.contract.js';
import { leaseStoreContract } from '../../contracts/leaseStore.contract.js';
import { runStoreContract } from '../../contracts/runStore.contract.js';
import { snapshotStoreContract } from '../../contracts/snapshotStore.contract.js';
import { tenantStoreContract } from '../../contracts/tenantStore.contract.js';
import { FakeConsentStateStore } from '../../fakes/consentStateStore.js';
import { ManualClock } from '../../fakes/clock.js';
import { FakeDeliveryStateStore, FakeSubscriptionSecrets, FakeSubscriptionStore } from '../../fakes/delivery.js';
import { FakeLeaseStore } from '../../fakes/leaseStore.js';
import { FakeRunStore } from '../../fakes/runStore.js';
import { FakeSnapshotStore } from '../../fakes/snapshotStore.js';
import { FakeTenantStore } from '../../fakes/tenantStore.js';

// One store per suite, shared by its tests as the Azurite run shares one account (tests use fresh IDs).
const clock = new ManualClock();
const tenants = new FakeTenantStore();
const leases = new FakeLeaseStore(clock);
const runs = new FakeRunStore(clock);
const snapshots = new FakeSnapshotStore(clock);
const consentStates = new FakeConsentStateStore();

tenantStoreContract('in-memory fake', () => tenants);
leaseStoreContract('in-memory fake', () => ({ store: leases, clock }));
runStoreContract('in-memory fake', () => ({ store: runs, clock }));
snapshotStoreContract('in-memory fake', () => snapshots);
consentStateStoreContract('in-memory fake', () => consentStates);
eventLogContract('in-memory fake', () => ({ store: snapshots, events: snapshots.events, clock }));

const subscriptions = new FakeSubscriptionStore();
const deliveryState = new FakeDeliveryStateStore();
const subscriptionSecrets = new FakeSubscriptionSecrets();
subscriptionStoreContract('in-memory fake', () => subscriptions);
deliveryStateStoreContract('in-memory fake', () => deliveryState);
subscriptionSecretsContract('in-memory fake', () => subscriptionSecrets);
