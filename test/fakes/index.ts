/**
 * In-memory fakes of every port (shared/ports.ts), for unit specs only: production code never imports test/.
 * The store fakes pass the same contract suites (test/contracts/) as the Table adapters on Azurite.
 */
import type { CollectDeps, SyncOptions } from '../../shared/usecases/collectTenant.js';
import { ManualClock } from './clock.js';
import { FakeConsentStateStore } from './consentStateStore.js';
import { ScriptedIncidentSource, type ScriptedSourceOptions } from './incidentSource.js';
import { Journal } from './journal.js';
import { FakeLeaseStore } from './leaseStore.js';
import { RecordingLogger } from './logger.js';
import { FakeRunStore } from './runStore.js';
import { FakeSnapshotStore } from './snapshotStore.js';
import { FakeTenantStore } from './tenantStore.js';
import { ScriptedTokenProvider } from './tokenProvider.js';

export { ManualClock } from './clock.js';
export { FakeConsentStateStore } from './consentStateStore.js';
export { FakeEventLog } from './eventLog.js';
export { ScriptedIncidentSource, type PageScript, type ScriptedSourceOptions } from './incidentSource.js';
export { Faults, Journal } from './journal.js';
export { FakeLeaseStore } from './leaseStore.js';
export { FakeSecretProvider, RecordingLogger, type LoggedEvent } from './logger.js';
export { FakeRunStore } from './runStore.js';
export { FakeSnapshotStore } from './snapshotStore.js';
export { FakeTenantStore } from './tenantStore.js';
export { ScriptedTokenProvider } from './tokenProvider.js';

/** Sync settings of the specs: 5 min overlap, 1 min lag, 7 days first lookback, re-probe every 6 hours. */
export const TEST_SYNC: SyncOptions = { overlapSeconds: 300, lagSeconds: 60, initialLookbackDays: 7, reprobeHours: 6 };

/** Every port faked, sharing one clock and one journal; spread it into a use case's deps. */
export interface FakeWorld {
  readonly clock: ManualClock;
  readonly journal: Journal;
  readonly tenants: FakeTenantStore;
  readonly leases: FakeLeaseStore;
  readonly snapshots: FakeSnapshotStore;
  readonly runs: FakeRunStore;
  readonly consentStates: FakeConsentStateStore;
  readonly source: ScriptedIncidentSource;
  readonly tokens: ScriptedTokenProvider;
  readonly logger: RecordingLogger;
  readonly sync: SyncOptions;
}

/** A fresh world of fakes: clock at `start` (default 2026-11-24T12:00:00.000Z), the source scripted by `source`. */
export function fakeWorld(options: { start?: string; source?: ScriptedSourceOptions } = {}): FakeWorld & CollectDeps {
  const clock = new ManualClock(options.start);
  const journal = new Journal();
  return {
    clock,
    journal,
    tenants: new FakeTenantStore(journal),
    leases: new FakeLeaseStore(clock),
    snapshots: new FakeSnapshotStore(clock, journal),
    runs: new FakeRunStore(clock),
    consentStates: new FakeConsentStateStore(),
    source: new ScriptedIncidentSource(options.source),
    tokens: new ScriptedTokenProvider(),
    logger: new RecordingLogger(),
    sync: TEST_SYNC,
  };
}
export {
  FakeDeliveryStateStore,
  FakeSubscriptionSecrets,
  FakeSubscriptionStore,
  ScriptedWebhookSender,
  type SentEvent,
} from './delivery.js';
