/**
 * LogsIngestionSim: a data collection endpoint of the Azure Monitor Logs Ingestion API, shaped as documented
 * (Microsoft Learn, "Logs Ingestion API in Azure Monitor"; REST "Logs Ingestion - Upload", api-version 2023-01-01):
 * `POST /dataCollectionRules/{ruleId}/streams/{stream}?api-version=2023-01-01` with a JSON array of rows, optionally
 * `Content-Encoding: gzip`, answered `204 No Content`. At most 1 MB per call (413 above).
 *
 * Checks, in the order the service applies them:
 * - a bearer token from the Entra sim with audience `https://monitor.azure.com` (MONITOR_AUDIENCE) for the home
 *   tenant: none → 401 `AuthenticationFailed`; another audience → 403 `InvalidAuthenticationTokenAudience`; a bad or
 *   expired one → 401 `InvalidAuthenticationToken`;
 * - `api-version=2023-01-01`, else 400 `InvalidApiVersionParameter`;
 * - the rule exists (`addRule`) → else 404 `NotFound`; the token's app (`appid`) is one of the rule's publishers
 *   (Monitoring Metrics Publisher on the rule) → else 403 `Forbidden`; the stream is declared by the rule → else
 *   404 `InvalidStream`;
 * - the body: gunzipped when gzip-encoded (400 `InvalidContentEncoding` when it is not gzip), at most 1 MB
 *   (413 `ContentLengthLimitExceeded`), a JSON array of objects (400 `InvalidPayload`).
 * Accepted rows are recorded per rule and stream (`rows`), each call in `uploads`. Throttling and outages come
 * from the shared fault mechanism: `throttle(k, retryAfterSeconds)` answers 429 with Retry-After, `failNext(k, 503)`
 * a 5xx, each for the next k upload calls.
 */
import { gunzipSync } from 'node:zlib';
import { checkBearer } from './bearer.js';
import type { EntraSim } from './entra.js';
import { MONITOR_AUDIENCE } from './entra.js';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';

/** The Logs Ingestion API version this simulator serves. */
export const LOGS_INGESTION_API_VERSION = '2023-01-01';

/** The documented limit of one call's body (compressed or not). */
export const LOGS_INGESTION_MAX_BYTES = 1_000_000;

const ROUTE = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)\/?$/;

/** One accepted or refused upload call. */
export interface UploadRecord {
  readonly ruleId: string;
  readonly stream: string;
  /** Rows in the body (0 when it could not be read). */
  readonly rowCount: number;
  /** True when the body came gzip-encoded. */
  readonly gzip: boolean;
  /** Body bytes as received. */
  readonly bytes: number;
  readonly status: number;
}

interface Rule {
  readonly streams: Set<string>;
  /** Client IDs (token `appid`) holding Monitoring Metrics Publisher on the rule. */
  readonly publishers: Set<string>;
}

function error(status: number, code: string, message: string, headers?: Record<string, string>): SimResponse {
  return json(status, { error: { code, message } }, headers);
}

export class LogsIngestionSim extends SimServer {
  /** Every upload call that reached the route (faults answered before it are not here). */
  readonly uploads: UploadRecord[] = [];
  private readonly rules = new Map<string, Rule>();
  private readonly accepted = new Map<string, Record<string, unknown>[]>();

  constructor(private readonly entra: EntraSim) {
    super();
  }

  /**
   * Configure a data collection rule (immutable ID `dcr-…`) with its declared streams, and the client IDs whose
   * tokens may ingest through it (the role assignment on the rule).
   */
  addRule(ruleId: string, streams: readonly string[], publishers: readonly string[]): void {
    this.rules.set(ruleId, {
      streams: new Set(streams),
      publishers: new Set(publishers.map((p) => p.toLowerCase())),
    });
  }

  /** Rows accepted for a rule and stream, in arrival order. */
  rows(ruleId: string, stream: string): readonly Record<string, unknown>[] {
    return this.accepted.get(`${ruleId}/${stream}`) ?? [];
  }

  /** Answer the next `times` upload calls 429 with `Retry-After: retryAfterSeconds`. */
  throttle(times: number, retryAfterSeconds = 1): void {
    this.inject({
      match: (r) => r.kind === 'upload',
      times,
      status: 429,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: {
        error: { code: 'TooManyRequests', message: 'The rate of requests to the data collection rule is too high.' },
      },
    });
  }

  /** Answer the next `times` upload calls with `status` (default 503). */
  failNext(times: number, status = 503): void {
    this.inject({
      match: (r) => r.kind === 'upload',
      times,
      status,
      body: { error: { code: 'ServiceUnavailable', message: 'The service is temporarily unavailable.' } },
    });
  }

  protected kindOf(method: string, path: string): string | undefined {
    return method === 'POST' && ROUTE.test(path) ? 'upload' : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    const m = ROUTE.exec(ctx.req.path);
    if (!m || ctx.req.method !== 'POST')
      return error(404, 'NotFound', `No route for ${ctx.req.method} ${ctx.req.path}`);
    const ruleId = decodeURIComponent(m[1] ?? '');
    const stream = decodeURIComponent(m[2] ?? '');
    const answer = await this.decide(ctx, ruleId, stream);
    this.uploads.push({
      ruleId,
      stream,
      rowCount: answer.rows?.length ?? 0,
      gzip: isGzip(ctx),
      bytes: ctx.rawBody.length,
      status: answer.response.status,
    });
    if (answer.rows) {
      const key = `${ruleId}/${stream}`;
      this.accepted.set(key, [...(this.accepted.get(key) ?? []), ...answer.rows]);
    }
    return answer.response;
  }

  private async decide(
    ctx: RouteContext,
    ruleId: string,
    stream: string,
  ): Promise<{ response: SimResponse; rows?: Record<string, unknown>[] }> {
    const auth = await checkBearer(ctx.headers.authorization, this.entra.publicKey, MONITOR_AUDIENCE);
    if (!auth.ok) {
      if (auth.reason === 'missing')
        return {
          response: error(401, 'AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing."),
        };
      if (auth.reason === 'audience')
        return {
          response: error(
            403,
            'InvalidAuthenticationTokenAudience',
            `The access token has been obtained for the wrong audience or resource. It should exactly match '${MONITOR_AUDIENCE}'.`,
          ),
        };
      return { response: error(401, 'InvalidAuthenticationToken', 'The access token is invalid or expired.') };
    }
    if (auth.claims.tid !== this.entra.homeTenantId)
      return { response: error(403, 'InvalidAuthenticationToken', 'The token was issued for another tenant.') };
    if (ctx.req.query.get('api-version') !== LOGS_INGESTION_API_VERSION)
      return {
        response: error(400, 'InvalidApiVersionParameter', `Use api-version=${LOGS_INGESTION_API_VERSION}.`),
      };
    const rule = this.rules.get(ruleId);
    if (!rule)
      return { response: error(404, 'NotFound', `Data collection rule with immutable Id '${ruleId}' not found.`) };
    const appId = String(auth.claims.appid ?? '').toLowerCase();
    if (!rule.publishers.has(appId))
      return {
        response: error(
          403,
          'Forbidden',
          'The authentication token provided does not have access to ingest data for the data collection rule.',
        ),
      };
    if (!rule.streams.has(stream))
      return {
        response: error(
          404,
          'InvalidStream',
          `Stream '${stream}' is not declared by data collection rule '${ruleId}'.`,
        ),
      };
    if (ctx.rawBody.length > LOGS_INGESTION_MAX_BYTES)
      return { response: error(413, 'ContentLengthLimitExceeded', 'The request body exceeds 1 MB.') };
    let text: string;
    try {
      text = isGzip(ctx) ? gunzipSync(ctx.rawBody).toString('utf8') : ctx.body;
    } catch {
      return { response: error(400, 'InvalidContentEncoding', 'The body is not valid gzip.') };
    }
    if (Buffer.byteLength(text, 'utf8') > LOGS_INGESTION_MAX_BYTES)
      return { response: error(413, 'ContentLengthLimitExceeded', 'The uncompressed request body exceeds 1 MB.') };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { response: error(400, 'InvalidPayload', 'The body is not valid JSON.') };
    }
    if (!Array.isArray(parsed) || !parsed.every((r) => typeof r === 'object' && r !== null && !Array.isArray(r)))
      return { response: error(400, 'InvalidPayload', 'The body must be a JSON array of objects.') };
    return { response: { status: 204 }, rows: parsed as Record<string, unknown>[] };
  }
}

function isGzip(ctx: RouteContext): boolean {
  return String(ctx.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
}
