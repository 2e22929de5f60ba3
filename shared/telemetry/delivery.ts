/**
 * The delivery engine's telemetry hook (design §9, issue 12). Delivery is built elsewhere; it calls these two
 * functions so the log event and the metrics keep the names the alert rules and the workbook query
 * (infra/modules/monitoring.bicep): the `delivery.deadlettered` log event (App Insights `traces`, one custom
 * dimension per field) with the `collector.delivery_deadlettered` counter, and the `collector.delivery_backlog`
 * gauge. Pure: only the Logger and CollectorMetrics ports.
 */
import type { CollectorMetrics, Logger } from '../ports.js';

/** The log event written once per dead-lettered event; the "events dead-lettered" alert counts it. */
export const DELIVERY_DEADLETTERED_EVENT = 'delivery.deadlettered';

/** One event given up on after its last attempt (never the event body, the URL's secret or the signing key). */
export interface DeadLetterReport {
  readonly subscriptionId: string;
  /** The CloudEvent id: `<tenantId>/<incidentId>/<lastUpdateTime>`. */
  readonly eventId: string;
  readonly tenantId: string;
  readonly incidentId: string;
  /** Attempts made, the last one included. */
  readonly attempts: number;
  /** Why the last attempt failed: `HTTP_<status>`, a network code (`ETIMEDOUT`…) or the sink's own code. */
  readonly errorCode: string;
}

/** Log `delivery.deadlettered` (level error) with the report's fields and count it on the subscription. */
export function reportDeadLettered(
  deps: { readonly logger: Logger; readonly metrics?: CollectorMetrics },
  report: DeadLetterReport,
): void {
  deps.logger.error(DELIVERY_DEADLETTERED_EVENT, { ...report });
  deps.metrics?.deadLettered(report.subscriptionId, 1);
}

/** After a delivery pass: `pending` events (new and awaiting a retry) wait for `subscriptionId`. */
export function reportDeliveryBacklog(
  deps: { readonly metrics?: CollectorMetrics },
  subscriptionId: string,
  pending: number,
): void {
  deps.metrics?.deliveryBacklog(subscriptionId, pending);
}
