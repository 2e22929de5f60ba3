/**
 * The webhook sender (got + standardwebhooks) against the HTTPS receiver simulator: the signature verifies with the
 * library, the body and content type are the contract's, and each kind of failure is classified (design §9).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLocalStack, type LocalStack } from '../../../devstack/stack.js';
import { createWebhookSender } from '../../../shared/adapters/delivery/webhookSender.js';
import type { IncidentCloudEvent } from '../../../shared/ports.js';

const T = '0a1b2c3d-0000-4000-8000-0000000000aa';

function event(n: number): IncidentCloudEvent {
  const lastUpdateTime = `2026-11-01T00:00:0${n}.1234567Z`;
  return {
    specversion: '1.0',
    id: `${T}/inc-${n}/${lastUpdateTime}`,
    source: `/tenants/${T}`,
    type: 'incident.created',
    subject: `incidents/inc-${n}`,
    time: '2026-11-24T12:00:00.000Z',
    datacontenttype: 'application/json',
    data: {
      tenantId: T,
      incidentId: `inc-${n}`,
      lastUpdateTime,
      source: 'graph',
      sequence: n,
      severity: 'high',
      status: 'active',
      title: 'Suspicious sign-in ✓',
      incident: { id: `inc-${n}`, displayName: 'Suspicious sign-in ✓' },
    },
  };
}

describe('webhook sender → receiver simulator', () => {
  let stack: LocalStack;
  const sender = createWebhookSender({ timeoutSeconds: 1 });

  beforeAll(async () => {
    stack = await startLocalStack({ azurite: false, tenants: [] });
    stack.trustInProcess();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('posts the event JSON as application/cloudevents+json, signed so that standardwebhooks verifies it', async () => {
    const hook = stack.webhooks.addEndpoint();
    const e = event(1);
    const outcome = await sender.send({ url: hook.url, secret: hook.secret }, e);
    expect(outcome).toEqual({ kind: 'delivered', status: 204 });
    const [got] = stack.webhooks.to(hook.path);
    expect(got).toMatchObject({ webhookId: e.id, contentType: 'application/cloudevents+json; charset=utf-8' });
    expect(JSON.parse(got?.body ?? '')).toEqual(e);
    expect(stack.webhooks.rejected).toEqual([]);
  });

  it('a wrong secret is refused by the receiver (401 → retry HTTP_401)', async () => {
    const hook = stack.webhooks.addEndpoint();
    const other = stack.webhooks.addEndpoint();
    const outcome = await sender.send({ url: hook.url, secret: other.secret }, event(2));
    expect(outcome).toMatchObject({ kind: 'retry', code: 'HTTP_401', status: 401 });
    expect(stack.webhooks.to(hook.path)).toEqual([]);
    expect(stack.webhooks.rejected.some((r) => r.path === hook.path)).toBe(true);
  });

  it('500 → retry HTTP_500; 410 → gone; a reset → retry with the socket code; a stall → retry TIMEOUT', async () => {
    const hook = stack.webhooks.addEndpoint();
    const target = { url: hook.url, secret: hook.secret };
    stack.webhooks.failNext(500, 1, hook.path);
    expect(await sender.send(target, event(3))).toMatchObject({ kind: 'retry', code: 'HTTP_500' });
    stack.webhooks.failNext(410, 1, hook.path);
    expect(await sender.send(target, event(3))).toEqual({ kind: 'gone', status: 410 });
    stack.webhooks.resetNext(1, hook.path);
    expect(await sender.send(target, event(3))).toMatchObject({ kind: 'retry', code: 'ECONNRESET' });
    const stall = stack.webhooks.stall();
    const timedOut = await sender.send(target, event(3));
    stall.release();
    expect(timedOut).toMatchObject({ kind: 'retry', code: 'TIMEOUT' });
    expect(await sender.send(target, event(3))).toEqual({ kind: 'delivered', status: 204 });
  });

  it('does not follow redirects (302 → retry HTTP_302) and refuses http:// to a non-loopback host', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(302, { location: 'https://example.invalid/' });
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as AddressInfo).port;
      const secret = stack.webhooks.addEndpoint().secret;
      expect(await sender.send({ url: `http://127.0.0.1:${port}/x`, secret }, event(4))).toMatchObject({
        kind: 'retry',
        code: 'HTTP_302',
      });
      expect(await sender.send({ url: 'http://receiver.example/x', secret }, event(4))).toMatchObject({
        kind: 'retry',
        code: 'URL_REFUSED',
      });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
