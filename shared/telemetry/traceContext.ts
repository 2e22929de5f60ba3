/**
 * The Functions host's trace context for one invocation (W3C `traceparent`/`tracestate`, from
 * `InvocationContext.traceContext`), made the active OpenTelemetry context of the handler, so the log records and
 * spans the worker sends join the invocation's operation in Application Insights (`operation_Id`). The
 * OpenTelemetry API is imported only here, on first use (telemetry on).
 */

/** The two W3C trace headers as the host hands them over. */
export interface HostTraceContext {
  readonly traceParent?: string | undefined;
  readonly traceState?: string | undefined;
}

/** `handler` bound to the context `trace` describes; unchanged when there is no `traceparent`. */
export async function bindToHostTrace<T extends (...args: never[]) => unknown>(
  trace: HostTraceContext | undefined,
  handler: T,
): Promise<T> {
  if (!trace?.traceParent) return handler;
  const { context, propagation } = await import('@opentelemetry/api');
  const carrier: Record<string, string> = { traceparent: trace.traceParent };
  if (trace.traceState) carrier.tracestate = trace.traceState;
  return context.bind(propagation.extract(context.active(), carrier), handler);
}
