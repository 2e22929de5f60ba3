/**
 * The one wrapper every function handler goes through: resolve the process's services, and run the work with its
 * log lines attached to the invocation. A configuration error (a missing or malformed app setting) is logged with
 * the setting's name and rethrown, so the invocation fails visibly instead of half-working.
 */
import type { Services } from '../composition.js';
import { ConfigError, ensureError } from '../domain/errors.js';
import { redact } from '../log.js';
import { hostServices } from './hostServices.js';
import { withInvocation, type InvocationLog } from './invocationLogger.js';

export async function invoke<T>(context: InvocationLog, work: (services: Services) => Promise<T>): Promise<T> {
  let services: Services;
  try {
    services = await hostServices();
  } catch (error) {
    const e = ensureError(error);
    const fields = error instanceof ConfigError ? { setting: error.setting } : {};
    context.error(
      redact(
        JSON.stringify({
          level: 'error',
          event: 'host.services_failed',
          ...fields,
          errorName: e.name,
          message: e.message,
        }),
      ),
    );
    throw e;
  }
  return withInvocation(context, () => work(services));
}

/** The trigger's delivery count (`triggerMetadata.dequeueCount`), 1 when absent. */
export function dequeueCountOf(context: { triggerMetadata?: Record<string, unknown> }): number {
  const raw = context.triggerMetadata?.dequeueCount;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}
