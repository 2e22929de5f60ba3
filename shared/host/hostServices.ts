/**
 * The per-process services of the Functions host: settings are read from the app settings (process.env) and the
 * composition root is built on the first invocation, not at import time, so a cold start stays short and a bad
 * setting fails the invocation with its name (logged) instead of crashing the worker at load. Tables are ensured
 * once per process. Tests substitute the whole thing with `setHostServices`.
 */
import { createServices, type Services } from '../composition.js';
import { loadSettings } from '../config/settings.js';
import { createInvocationLogger } from './invocationLogger.js';
import { startTelemetry, type Telemetry } from '../telemetry/index.js';

let pending: Promise<Services> | undefined;

let telemetry: Promise<Telemetry> | undefined;

/**
 * The process's telemetry (issue 12), started once: on with APPLICATIONINSIGHTS_CONNECTION_STRING, exporting in the
 * background for the life of the worker (the exporter's own interval; no flush per invocation).
 */
function hostTelemetry(): Promise<Telemetry> {
  telemetry ??= startTelemetry(process.env).catch((error: unknown) => {
    telemetry = undefined;
    throw error;
  });
  return telemetry;
}

async function build(): Promise<Services> {
  const settings = loadSettings(process.env);
  const { metrics } = await hostTelemetry();
  const services = createServices(settings, { logger: createInvocationLogger(), metrics });
  await services.ready();
  return services;
}

/** The host's services, ready to use (tables exist). A failed build is retried by the next invocation. */
export function hostServices(): Promise<Services> {
  if (!pending) {
    const building = build();
    pending = building;
    building.catch(() => {
      if (pending === building) pending = undefined;
    });
  }
  return pending;
}

/** Test hook: use these services (already ready) instead of building from process.env; undefined resets. */
export function setHostServices(services: Services | undefined): void {
  pending = services ? Promise.resolve(services) : undefined;
}
