import { describe, expect, it } from '@jest/globals';
import { createHttpHeaders, type HttpClient, type PipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { TableClient, type TableTransactionResponse } from '@azure/data-tables';
import { type BatchOp, toTransactionAction } from '../../../../shared/adapters/tables/batchPlanner.js';
import {
  canBuildTransactions,
  parseTransactionResponse,
  submitTransactionOps,
  transactionBody,
} from '../../../../shared/adapters/tables/transactionRequest.js';

// Azurite's published development account (not a secret).
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONNECTION = `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${ACCOUNT_KEY};TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;`;

/** An HTTP client that records requests and answers each with the given status and body (no network). */
function recorder(status: number, bodyAsText: string): { http: HttpClient; sent: PipelineRequest[] } {
  const sent: PipelineRequest[] = [];
  const http: HttpClient = {
    sendRequest: async (request) => {
      sent.push(request);
      const headers = createHttpHeaders({ 'content-type': 'multipart/mixed; boundary=batchresponse_1' });
      return { request, status, headers, bodyAsText };
    },
  };
  return { http, sent };
}

const compressed = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
const OPS: BatchOp[] = [
  {
    kind: 'create',
    entity: {
      partitionKey: "tenant'1",
      rowKey: 'id%2F1_2026-11-30T00:00:00.1234567Z',
      title: 'quote " backslash \\ é 😀',
      n: 3,
      d: 1.5,
      flag: true,
      payload: compressed.subarray(10, 200),
      payload_1: compressed.subarray(200),
    },
  },
  { kind: 'upsert', entity: { partitionKey: "tenant'1", rowKey: "r/1 é%#?~:'x", data: compressed.subarray(0, 5) } },
  {
    kind: 'update',
    entity: { partitionKey: "tenant'1", rowKey: 'id 3', contentHash: 'abc' },
    etag: `W/"datetime'2026-11-30T00%3A00%3A00.0000000Z'"`,
  },
  { kind: 'delete', entity: { partitionKey: "tenant'1", rowKey: '~ev_0001' } },
];

/** What the SDK itself sends for these operations, and the boundary ids it chose. */
async function sdkRequest(ops: readonly BatchOp[]): Promise<{ request: PipelineRequest; body: string }> {
  const { http, sent } = recorder(202, '');
  const client = TableClient.fromConnectionString(CONNECTION, 'Incidents', {
    allowInsecureConnection: true,
    httpClient: http,
  });
  await client.submitTransaction(ops.map(toTransactionAction));
  const request = sent[0] as PipelineRequest;
  return { request, body: String(request.body) };
}

describe('transactionBody', () => {
  it('is byte for byte the body the SDK sends for create, upsert, update and delete', async () => {
    const { request, body } = await sdkRequest(OPS);
    const batchId = /^--batch_([0-9a-f-]+)\r\n/.exec(body)?.[1] as string;
    const changesetId = /boundary=changeset_([0-9a-f-]+)\r\n/.exec(body)?.[1] as string;
    expect(batchId).toBeDefined();
    expect(changesetId).toBeDefined();
    expect(transactionBody('http://127.0.0.1:10002/devstoreaccount1/Incidents', OPS, batchId, changesetId)).toBe(body);
    expect(request.url).toBe('http://127.0.0.1:10002/devstoreaccount1/$batch');
  });

  it('is sent through the client pipeline with the SDK request headers (authorization included)', async () => {
    const { request: sdk } = await sdkRequest(OPS);
    const { http, sent } = recorder(202, '');
    const client = TableClient.fromConnectionString(CONNECTION, 'Incidents', {
      allowInsecureConnection: true,
      httpClient: http,
    });
    // The client's own pipeline is used; its http client is the default one, so record at the policy level.
    client.pipeline.addPolicy({
      name: 'record',
      sendRequest: async (request) => {
        sent.push(request);
        return { request, status: 202, headers: createHttpHeaders(), bodyAsText: '' };
      },
    });
    await submitTransactionOps(client, OPS, () => Promise.reject(new Error('fallback used')));
    const ours = sent[0] as PipelineRequest;
    const names = (r: PipelineRequest) => [...r.headers].map(([k]) => k.toLowerCase()).sort();
    const withoutLength = (r: PipelineRequest) => names(r).filter((n) => n !== 'content-length');
    expect(withoutLength(ours)).toEqual(withoutLength(sdk));
    expect(ours.headers.get('authorization')).toMatch(/^SharedKeyLite devstoreaccount1:/);
    expect(ours.method).toBe('POST');
    expect(ours.url).toBe(sdk.url);
  });
});

describe('canBuildTransactions', () => {
  const client = (url: string) => new TableClient(url, 'Incidents', { allowInsecureConnection: true });
  it('speaks for Azure accounts and loopback Azurite only; SAS URLs and Cosmos DB go through the SDK', () => {
    expect(canBuildTransactions(client('https://acct.table.core.windows.net'))).toBe(true);
    expect(canBuildTransactions(client('http://127.0.0.1:10002/devstoreaccount1'))).toBe(true);
    expect(canBuildTransactions(client('https://acct.table.core.windows.net?sv=2020&sig=x'))).toBe(false);
    expect(canBuildTransactions(client('https://acct.table.cosmos.azure.com'))).toBe(false);
    expect(canBuildTransactions(client('http://example.com/devstoreaccount1'))).toBe(false);
    expect(canBuildTransactions(client('https://localhost:8902'))).toBe(false);
  });
});

describe('parseTransactionResponse', () => {
  const success = [
    '--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n',
    "--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\nLocation: http://x/Incidents(PartitionKey='t',RowKey='a%27')\r\nETag: W/\"datetime'2026-11-30T00%3A00%3A00.1Z'\"\r\n\r\n",
    '--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\nETag: W/"datetime\'2026-11-30T00%3A00%3A00.2Z\'"\r\n\r\n',
    '--changesetresponse_2--\r\n--batchresponse_1--\r\n',
  ].join('');
  const failure = [
    '--batchresponse_1\r\nContent-Type: multipart/mixed; boundary=changesetresponse_2\r\n\r\n',
    '--changesetresponse_2\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 409 Conflict\r\nContent-Type: application/json\r\n\r\n',
    '{"odata.error":{"code":"EntityAlreadyExists","message":{"lang":"en-US","value":"1:The specified entity already exists."}}}\r\n',
    '--changesetresponse_2--\r\n--batchresponse_1--\r\n',
  ].join('');

  async function both(status: number, text: string): Promise<[unknown, unknown]> {
    const { http } = recorder(status, text);
    const client = TableClient.fromConnectionString(CONNECTION, 'Incidents', {
      allowInsecureConnection: true,
      httpClient: http,
    });
    const settle = (p: Promise<TableTransactionResponse>) =>
      p.then(
        (r) => ({ status: r.status, subResponses: r.subResponses }),
        (e: unknown) => e,
      );
    const sdk = await settle(client.submitTransaction(OPS.slice(0, 2).map(toTransactionAction)));
    const request = { url: 'x' } as PipelineRequest;
    const ours = await settle(
      Promise.resolve().then(() =>
        parseTransactionResponse({ request, status, headers: createHttpHeaders(), bodyAsText: text }),
      ),
    );
    return [sdk, ours];
  }

  it('reads statuses, RowKeys and ETags as the SDK does', async () => {
    const [sdk, ours] = await both(202, success);
    expect(ours).toEqual(sdk);
    expect((ours as TableTransactionResponse).subResponses.map((s) => s.status)).toEqual([204, 204]);
  });

  it("throws the SDK's RestError for a failed operation: the service code, the sub-status and the failing index", async () => {
    const [sdk, ours] = await both(202, failure);
    expect(ours).toBeInstanceOf(RestError);
    expect(sdk).toBeInstanceOf(RestError);
    for (const e of [sdk, ours] as RestError[]) {
      expect(e.statusCode).toBe(409);
      expect(e.code).toBe('EntityAlreadyExists');
      expect(e.message).toBe('1:The specified entity already exists.');
    }
  });

  it('throws for a failed batch as a whole with its status', async () => {
    const text = '{"odata.error":{"code":"InvalidInput","message":{"value":"Bad batch"}}}';
    const [sdk, ours] = await both(400, text);
    for (const e of [sdk, ours] as RestError[]) {
      expect(e).toBeInstanceOf(RestError);
      expect(e.statusCode).toBe(400);
      expect(e.code).toBe('InvalidInput');
      expect(e.message).toBe('Bad batch');
    }
  });
});
