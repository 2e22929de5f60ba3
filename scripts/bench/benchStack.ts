/**
 * A local stack for one workload: simulators + Azurite with the workload's tenants and latency, the tenants
 * registered `active` in the Tenants table (as `tenants add --no-verify` would), and the environment a
 * collector process needs.
 */
import { loadSettings } from '../../shared/config/settings.js';
import { createServices } from '../../shared/composition.js';
import { mapBounded } from '../../shared/lib/bounded.js';
import { silentLogger } from '../../shared/log.js';
import type { SourceKind } from '../../shared/ports.js';
import { demoTenants } from '../../devstack/demoTenants.js';
import { startLocalStack, type LocalStack, type StackOptions } from '../../devstack/stack.js';

export interface BenchStackOptions {
  readonly tenants: number;
  readonly incidentsPerTenant: number;
  readonly latency?: StackOptions['latency'];
  readonly timeScale?: number;
  /** Seed of the tenant IDs: different seeds give disjoint tenant sets. */
  readonly seed?: number;
}

export interface BenchStack {
  readonly stack: LocalStack;
  readonly tenantIds: readonly string[];
  readonly azuritePid: number | undefined;
  /** Settings for a collector process (design §3) against this stack. */
  collectorEnv(source: SourceKind, extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startBenchStack(options: BenchStackOptions): Promise<BenchStack> {
  const specs = demoTenants(options.tenants, { seed: options.seed ?? 1, incidents: options.incidentsPerTenant });
  const stack = await startLocalStack({
    tenants: specs,
    ...(options.latency ? { latency: options.latency } : {}),
    ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
  });
  try {
    await registerActive(stack, specs);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return {
    stack,
    tenantIds: specs.map((s) => s.tenantId),
    azuritePid: stack.azurite?.pid,
    collectorEnv: (source, extra = {}) => ({
      ...stack.env,
      INCIDENT_SOURCE: source,
      // Seeded incidents are at least 15 minutes old: the default lag (5 minutes) keeps them all in the window.
      ...extra,
    }),
    stop: () => stack.stop(),
  };
}

async function registerActive(
  stack: LocalStack,
  specs: readonly { tenantId: string; displayName?: string }[],
): Promise<void> {
  const services = createServices(loadSettings(stack.env), { logger: silentLogger, env: stack.env });
  await services.ready();
  const consentedAt = new Date().toISOString();
  await mapBounded(specs, 16, (spec) =>
    services.tenants.upsert(spec.tenantId, {
      displayName: spec.displayName ?? spec.tenantId,
      status: 'active',
      consentedAt,
    }),
  );
}
