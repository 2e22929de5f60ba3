/**
 * WebhookSender over got (design §9): one POST of the event JSON (`application/cloudevents+json; charset=utf-8`),
 * signed per Standard Webhooks with the `standardwebhooks` library (`webhook-id` = event id, `webhook-timestamp` =
 * Unix seconds of this attempt, `webhook-signature` = `v1,<base64 HMAC-SHA256>`), no redirects followed, no retry
 * of its own (the engine's schedule retries), `DELIVERY_TIMEOUT_SECONDS` for the whole exchange. Answers:
 * 2xx → delivered, 410 → gone, any other status → retry `HTTP_<status>`, no answer in time → retry `TIMEOUT`, a
 * connection error → retry with its code (`ECONNRESET`, `ECONNREFUSED`, …). `http://` only to a loopback host.
 * The secret is registered with the log redactor and never appears in an outcome's message.
 */
import got, { RequestError } from 'got';
import { Webhook } from 'standardwebhooks';
import { isLoopbackHttpUrl } from '../../domain/subscription.js';
import { registerSecret, redact } from '../../log.js';
import type {
  Clock,
  DeliveryOutcome,
  IncidentCloudEvent,
  PageOptions,
  WebhookSender,
  WebhookTarget,
} from '../../ports.js';

export const CLOUDEVENTS_CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export interface WebhookSenderOptions {
  /** `DELIVERY_TIMEOUT_SECONDS`. */
  readonly timeoutSeconds: number;
  /** The attempt's `webhook-timestamp` comes from it (default the system clock). */
  readonly clock?: Clock;
}

/** The Standard Webhooks headers of one attempt (exported for the receiver simulator's and specs' checks). */
export function signatureHeaders(
  secret: string,
  event: IncidentCloudEvent,
  body: string,
  at: Date,
): Record<string, string> {
  const signature = new Webhook(secret).sign(event.id, at, body);
  return {
    'webhook-id': event.id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': signature,
  };
}

export function createWebhookSender(options: WebhookSenderOptions): WebhookSender {
  const clock = options.clock ?? { now: () => new Date() };
  const client = got.extend({
    method: 'POST',
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: { request: options.timeoutSeconds * 1000 },
    headers: { 'user-agent': 'incident-collector-webhooks' },
  });
  return {
    async send(target: WebhookTarget, event: IncidentCloudEvent, opts?: PageOptions): Promise<DeliveryOutcome> {
      registerSecret(target.secret);
      const url = new URL(target.url);
      if (url.protocol !== 'https:' && !isLoopbackHttpUrl(url))
        return {
          kind: 'retry',
          code: 'URL_REFUSED',
          message: 'Webhook URLs must be https:// (http:// only to loopback).',
        };
      const body = JSON.stringify(event);
      let headers: Record<string, string>;
      try {
        headers = signatureHeaders(target.secret, event, body, clock.now());
      } catch {
        return {
          kind: 'retry',
          code: 'SECRET_INVALID',
          message: 'The subscription secret is not a valid whsec_ value.',
        };
      }
      try {
        const response = await client(url, {
          body,
          headers: { 'content-type': CLOUDEVENTS_CONTENT_TYPE, ...headers },
          ...(opts?.signal ? { signal: opts.signal } : {}),
        });
        const status = response.statusCode;
        if (status >= 200 && status < 300) return { kind: 'delivered', status };
        if (status === 410) return { kind: 'gone', status: 410 };
        return { kind: 'retry', code: `HTTP_${status}`, message: `The receiver answered ${status}.`, status };
      } catch (error) {
        if (error instanceof RequestError) {
          const code = error.name === 'TimeoutError' || error.code === 'ETIMEDOUT' ? 'TIMEOUT' : error.code;
          const message =
            code === 'TIMEOUT'
              ? `No answer within ${options.timeoutSeconds} s.`
              : redact(`The request failed: ${error.message}`).slice(0, 300);
          return { kind: 'retry', code: code || 'REQUEST_FAILED', message };
        }
        const e = error as Error;
        return { kind: 'retry', code: 'REQUEST_FAILED', message: redact(e.message ?? String(error)).slice(0, 300) };
      }
    },
  };
}
