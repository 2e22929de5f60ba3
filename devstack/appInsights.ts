/**
 * A local stand-in of the Application Insights ingestion endpoint ("Breeze"): HTTPS on 127.0.0.1 (a free port, the
 * simulators' certificates), accepting what the Azure Monitor exporter sends — `POST /v2.1/track` and `/v2/track`,
 * a JSON array of envelopes (or newline-delimited JSON), gzip-encoded or not — answering as the service does
 * (`200 { itemsReceived, itemsAccepted, errors: [] }`) and recording every request: its path, the decoded body
 * text (for secret scans) and the envelopes. Anything else is answered 404 and recorded too, so a test sees
 * unexpected traffic (statsbeat, live metrics) instead of missing it.
 *
 * Connection string for the collector: `connectionString()` →
 * `InstrumentationKey=<key>;IngestionEndpoint=https://127.0.0.1:<port>/`.
 */
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { SimCertificates } from './certs.js';

/** One Breeze envelope, as much of it as tests read. */
export interface TelemetryEnvelope {
  readonly name: string;
  readonly time: string;
  readonly iKey?: string;
  readonly tags?: Record<string, string>;
  readonly data?: {
    readonly baseType?: string;
    readonly baseData?: {
      readonly message?: string;
      readonly severityLevel?: string;
      readonly properties?: Record<string, string>;
      readonly metrics?: readonly { readonly name: string; readonly value: number; readonly count?: number }[];
      readonly [key: string]: unknown;
    };
  };
}

/** One request the stand-in received. */
export interface IngestionRequest {
  readonly method: string;
  readonly path: string;
  /** The body after gzip decoding, as text. */
  readonly body: string;
  /** Envelopes parsed from a track request (empty for other paths). */
  readonly envelopes: readonly TelemetryEnvelope[];
}

/** A log record (App Insights `traces` row) as sent: message, severity and custom dimensions. */
export interface SentLogRecord {
  readonly message: string;
  readonly severityLevel: string | undefined;
  readonly properties: Record<string, string>;
}

/** One metric point as sent (App Insights `customMetrics` row). */
export interface SentMetric {
  readonly name: string;
  readonly value: number;
  readonly properties: Record<string, string>;
}

const TRACK_PATHS = new Set(['/v2.1/track', '/v2/track']);

function parseEnvelopes(text: string): TelemetryEnvelope[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as TelemetryEnvelope[];
  return trimmed.split('\n').map((line) => JSON.parse(line) as TelemetryEnvelope);
}

export class AppInsightsSim {
  /** The instrumentation key the connection string carries (random, not a secret). */
  readonly instrumentationKey = randomUUID();
  readonly requests: IngestionRequest[] = [];
  private server: https.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  get url(): string {
    if (!this.port) throw new Error('AppInsightsSim is not started');
    return `https://127.0.0.1:${this.port}`;
  }

  /** `APPLICATIONINSIGHTS_CONNECTION_STRING` pointing the exporter at this stand-in. */
  connectionString(): string {
    return `InstrumentationKey=${this.instrumentationKey};IngestionEndpoint=${this.url}/`;
  }

  /** Every envelope received on the track paths, in arrival order. */
  envelopes(): TelemetryEnvelope[] {
    return this.requests.flatMap((r) => r.envelopes);
  }

  /** The log records received (MessageData envelopes). */
  logRecords(): SentLogRecord[] {
    return this.envelopes()
      .filter((e) => e.data?.baseType === 'MessageData')
      .map((e) => ({
        message: e.data?.baseData?.message ?? '',
        severityLevel: e.data?.baseData?.severityLevel,
        properties: e.data?.baseData?.properties ?? {},
      }));
  }

  /** The metric points received (MetricData envelopes, one point per metric entry). */
  metrics(): SentMetric[] {
    return this.envelopes()
      .filter((e) => e.data?.baseType === 'MetricData')
      .flatMap((e) =>
        (e.data?.baseData?.metrics ?? []).map((m) => ({
          name: m.name,
          value: m.value,
          properties: e.data?.baseData?.properties ?? {},
        })),
      );
  }

  async start(certs: SimCertificates): Promise<this> {
    const server = https.createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      void this.dispatch(req, res).catch((error: unknown) => {
        if (res.headersSent || res.destroyed) return;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: error instanceof Error ? error.message : String(error) }));
      });
    });
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Close the listener and destroy open keep-alive sockets. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    server.closeAllConnections();
    await closed;
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const gzip = /gzip/i.test(String(req.headers['content-encoding'] ?? '')) || (raw[0] === 0x1f && raw[1] === 0x8b);
    const body = (gzip && raw.length > 0 ? gunzipSync(raw) : raw).toString('utf8');
    const track = req.method === 'POST' && TRACK_PATHS.has(path);
    const envelopes = track ? parseEnvelopes(body) : [];
    this.requests.push({ method: req.method ?? 'GET', path, body, envelopes });
    const answer = track
      ? { status: 200, body: { itemsReceived: envelopes.length, itemsAccepted: envelopes.length, errors: [] } }
      : { status: 404, body: { error: `no route ${req.method ?? ''} ${path}` } };
    const text = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
    });
    res.end(text);
  }
}
