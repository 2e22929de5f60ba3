/**
 * The stale keep-alive connection behind `write EPIPE` under load, reproduced without timing: a loopback server
 * closes its side of an idle pooled connection (as Azurite does after its 5 s keep-alive timeout) and the next
 * request is issued in the same tick, before the client's event loop can read the FIN — exactly what a client
 * whose loop was busy through the server's timeout does. The idle time is an injected clock.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { Socket } from 'node:net';
import {
  IdleBoundedHttpAgent,
  IdleBoundedHttpsAgent,
  KEEP_ALIVE_MAX_IDLE_MS,
  keepAliveAgentFor,
} from '../../../shared/adapters/tables/keepAliveAgent.js';

/** A large body, as a `$batch` of chunked payloads: more than the socket buffers take in one write. */
const LARGE_BODY = Buffer.alloc(4 * 1024 * 1024, 0x61);

let server: http.Server;
let port: number;
const serverSockets: Socket[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.end(String(bytes)));
  });
  server.keepAliveTimeout = 600_000; // the test closes idle connections itself
  server.on('connection', (socket: Socket) => serverSockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

interface Outcome {
  readonly status?: number;
  readonly body?: string;
  readonly code?: string;
}

function send(agent: http.Agent, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = http.request(
      { agent, host: '127.0.0.1', port, method: 'POST', path: '/', headers: { 'content-length': body.length } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode, body: text }));
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ code: error.code }));
    req.end(body);
  });
}

/** One request through the agent, then wait until its socket is back in the pool. */
async function warm(agent: http.Agent): Promise<void> {
  expect(await send(agent, Buffer.from('x'))).toEqual({ status: 200, body: '1' });
  while (Object.values(agent.freeSockets).flat().length === 0) await new Promise((r) => setImmediate(r));
}

/** The server closes every connection it holds, and the client's next request starts in the same tick. */
function closeIdleThenSend(agent: http.Agent): Promise<Outcome> {
  for (const socket of serverSockets.splice(0)) socket.destroy();
  return send(agent, LARGE_BODY);
}

describe('keep-alive agent for the Table clients', () => {
  it("reproduces the failure with the SDK's kind of agent: the pooled socket the server closed is reused", async () => {
    const agent = new http.Agent({ keepAlive: true });
    await warm(agent);
    const outcome = await closeIdleThenSend(agent);
    agent.destroy();
    expect(outcome.status).toBeUndefined();
    expect(['EPIPE', 'ECONNRESET']).toContain(outcome.code);
  });

  it('does not reuse a socket idle for maxIdleMs: the request goes out whole on a new connection', async () => {
    let now = 1_000;
    const agent = new IdleBoundedHttpAgent({ now: () => now });
    await warm(agent);
    now += KEEP_ALIVE_MAX_IDLE_MS;
    const outcome = await closeIdleThenSend(agent);
    agent.destroy();
    expect(outcome).toEqual({ status: 200, body: String(LARGE_BODY.length) });
  });

  it('discards every stale pooled socket, not only the one it would pick first', async () => {
    let now = 1_000;
    const agent = new IdleBoundedHttpAgent({ now: () => now });
    // Three concurrent requests leave three pooled sockets, as the stores' parallel table writes do.
    expect((await Promise.all([1, 2, 3].map(() => send(agent, Buffer.from('x'))))).map((o) => o.status)).toEqual([
      200, 200, 200,
    ]);
    while (Object.values(agent.freeSockets).flat().length < 3) await new Promise((r) => setImmediate(r));
    now += KEEP_ALIVE_MAX_IDLE_MS;
    const outcomes = await Promise.all([closeIdleThenSend(agent), send(agent, LARGE_BODY), send(agent, LARGE_BODY)]);
    agent.destroy();
    expect(outcomes).toEqual(Array(3).fill({ status: 200, body: String(LARGE_BODY.length) }));
  });

  it('keeps reusing a connection idle for less than maxIdleMs', async () => {
    let now = 1_000;
    const agent = new IdleBoundedHttpAgent({ now: () => now });
    await warm(agent);
    const connections = serverSockets.length;
    now += KEEP_ALIVE_MAX_IDLE_MS - 1;
    expect(await send(agent, LARGE_BODY)).toEqual({ status: 200, body: String(LARGE_BODY.length) });
    expect(serverSockets.length).toBe(connections);
    agent.destroy();
  });

  it('rejects a maxIdleMs that is not a positive number, naming the setting', () => {
    expect(() => new IdleBoundedHttpAgent({ maxIdleMs: 0 })).toThrow(/maxIdleMs/);
    expect(() => new IdleBoundedHttpsAgent({ maxIdleMs: Number.NaN })).toThrow(/maxIdleMs/);
  });

  it('chooses HTTP only for an http: endpoint (the loopback emulator) and HTTPS otherwise', () => {
    expect(keepAliveAgentFor('http://127.0.0.1:10002/devstoreaccount1')).toBeInstanceOf(IdleBoundedHttpAgent);
    expect(keepAliveAgentFor('https://acct.table.core.windows.net')).toBeInstanceOf(IdleBoundedHttpsAgent);
    expect(keepAliveAgentFor(undefined)).toBeInstanceOf(IdleBoundedHttpsAgent);
  });
});
