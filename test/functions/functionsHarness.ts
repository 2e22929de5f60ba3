/**
 * Harness for the function handler tests: the local stack (Azurite + HTTPS simulators), real services built from
 * the stack's settings with the host's invocation logger and a clock the test can move, substituted into the
 * host singleton; real InvocationContext / HttpRequest objects for each call.
 */
import { randomUUID } from 'node:crypto';
import { HttpRequest, InvocationContext } from '@azure/functions';
import { createServices, type Services } from '../../shared/composition.js';
import { loadSettings } from '../../shared/config/settings.js';
import { setHostServices } from '../../shared/host/hostServices.js';
import { createInvocationLogger } from '../../shared/host/invocationLogger.js';
import type { TenantPatch } from '../../shared/ports.js';
import { startLocalStack, type LocalStack, type StackOptions } from '../../devstack/stack.js';

export interface LogLine {
  readonly level: string;
  readonly text: string;
}

export interface Harness {
  readonly stack: LocalStack;
  readonly services: Services;
  /** Every line any invocation logged. */
  readonly logs: LogLine[];
  /** Move the services' clock (ms added to real time). */
  setClockOffset(ms: number): void;
  context(functionName: string, triggerMetadata?: Record<string, unknown>): InvocationContext;
  request(init: {
    method?: string;
    path: string;
    query?: Record<string, string>;
    params?: Record<string, string>;
    body?: string;
  }): HttpRequest;
  /** Put a tenant straight into the Tenants table in a given state. */
  seedTenant(tenantId: string, patch: TenantPatch & { displayName?: string }): Promise<void>;
  stop(): Promise<void>;
}

export async function startHarness(options: StackOptions & { env?: Record<string, string> }): Promise<Harness> {
  const stack = await startLocalStack(options);
  stack.trustInProcess();
  const env = { ...stack.env, SYNC_LAG_SECONDS: '0', ...options.env };
  let offset = 0;
  const services = createServices(loadSettings(env), {
    env,
    logger: createInvocationLogger(),
    clock: { now: () => new Date(Date.now() + offset) },
    // Keep transient failures quick: the platform's redelivery is what the worker tests exercise.
    http: { retryLimit: 1, backoff: { baseMs: 5, capMs: 20 } },
  });
  await services.ready();
  setHostServices(services);
  const logs: LogLine[] = [];
  return {
    stack,
    services,
    logs,
    setClockOffset: (ms) => {
      offset = ms;
    },
    context: (functionName, triggerMetadata) =>
      new InvocationContext({
        invocationId: randomUUID(),
        functionName,
        logHandler: (level, ...args) => logs.push({ level, text: args.map(String).join(' ') }),
        ...(triggerMetadata ? { triggerMetadata } : {}),
      }),
    request: ({ method = 'GET', path, query, params, body }) =>
      new HttpRequest({
        method,
        url: `http://localhost:7071${path}`,
        ...(query ? { query } : {}),
        ...(params ? { params } : {}),
        ...(body !== undefined ? { body: { string: body }, headers: { 'content-type': 'application/json' } } : {}),
      }),
    seedTenant: async (tenantId, patch) => {
      await services.tenants.upsert(tenantId, { displayName: tenantId, consecutiveFailures: 0, ...patch });
    },
    stop: async () => {
      setHostServices(undefined);
      await stack.stop();
    },
  };
}

/** Collect an async iterable (store queries in assertions). */
export async function toArray<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
