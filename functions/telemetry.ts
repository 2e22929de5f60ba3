/**
 * Imported first by functions/index.ts. With APPLICATIONINSIGHTS_CONNECTION_STRING set (telemetry on, issue 12) the
 * worker sends its own telemetry through OpenTelemetry (shared/telemetry/), so it tells the host so
 * (`WorkerOpenTelemetryEnabled`: the host then does not forward the worker's log lines a second time, as JSON text)
 * and runs every handler in the host's trace context, so its records join the invocation's operation. This is what
 * `@azure/functions-opentelemetry-instrumentation` does, minus its log hook, which would re-send every log line as a
 * JSON string body. Without the setting nothing is registered.
 */
import { app } from '@azure/functions';
import { bindToHostTrace } from '../shared/telemetry/traceContext.js';

if (process.env.APPLICATIONINSIGHTS_CONNECTION_STRING?.trim()) {
  app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  app.hook.preInvocation(async (context) => {
    context.functionHandler = await bindToHostTrace(context.invocationContext.traceContext, context.functionHandler);
  });
}
