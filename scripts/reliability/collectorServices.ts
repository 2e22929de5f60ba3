/**
 * A collector "process" for one run inside the test process: fresh services (so Key Vault is read and tokens are
 * fetched anew, as a new worker would), every log line captured (already redacted, as it would be written), fast
 * retry backoff (the bound on attempts is what matters here, not the wall time), and a TenantStore wrapped by the
 * checkpoint recorder.
 */
import { loadSettings } from '../../shared/config/settings.js';
import { createServices, type Services } from '../../shared/composition.js';
import { createLogger } from '../../shared/log.js';
import type { Clock } from '../../shared/ports.js';
import type { RunDeps } from '../../shared/usecases/runCollection.js';
import { MATRIX_REQUEST_TIMEOUT_MS } from './faultCatalogue.js';
import type { CheckpointRecorder } from './checkpointRecorder.js';

export interface CollectorProcess {
  readonly services: Services;
  readonly runDeps: RunDeps;
}

export interface CollectorProcessOptions {
  readonly env: Record<string, string>;
  /** Where log lines go (redacted JSON, one per line). */
  readonly logLines: string[];
  readonly recorder?: CheckpointRecorder;
  /** Clock of the table stores (leases): a later clock lets a rerun take over a crashed run's lease. */
  readonly storageClock?: Clock;
}

export async function collectorProcess(options: CollectorProcessOptions): Promise<CollectorProcess> {
  const logger = createLogger((_level, line) => void options.logLines.push(line));
  const services = createServices(loadSettings(options.env), {
    logger,
    env: options.env,
    http: { requestTimeoutMs: MATRIX_REQUEST_TIMEOUT_MS, backoff: { baseMs: 40, capMs: 400, maxRetryAfterMs: 1_500 } },
    ...(options.storageClock ? { tables: { clock: options.storageClock } } : {}),
  });
  await services.ready();
  const base = services.runDeps();
  return { services, runDeps: options.recorder ? { ...base, tenants: options.recorder.wrap(base.tenants) } : base };
}
