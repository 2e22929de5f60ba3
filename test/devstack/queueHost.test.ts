/**
 * The local queue host's trigger semantics against Azurite's queue service, with small registered functions whose
 * handlers the test controls (the app's own handlers run in queueHostApp.test.ts): delete on success, redelivery
 * with dequeueCount 2 after a throw, the poison queue after maxDequeueCount, output bindings base64-encoded.
 * Gates are the host's own events, never timers.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { InvocationContext } from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { Azurite } from '../../devstack/azurite.js';
import { parseHostArgs } from '../../devstack/hostCommand.js';
import type { Registration } from '../../devstack/functionsCore.js';
import {
  parseTimeSpan,
  QueueHost,
  queueOptionsFromHostJson,
  type HostEvent,
  type QueueTriggerOptions,
} from '../../devstack/queueHost.js';

const OPTIONS: QueueTriggerOptions = {
  batchSize: 4,
  newBatchThreshold: 2,
  maxDequeueCount: 3,
  // Visible again at once after a failure: the redelivery is gated on the host's events, not on a clock.
  visibilityTimeoutMs: 0,
  maxPollingIntervalMs: 200,
};

interface Seen {
  readonly body: unknown;
  readonly metadata: Record<string, unknown>;
}

function queueFunction(
  name: string,
  queueName: string,
  handler: (body: unknown, context: InvocationContext) => unknown,
  outputs: Record<string, string> = {},
): Registration {
  const bindings: Registration['metadata']['bindings'] = {
    trigger: { name: 'trigger', type: 'queueTrigger', direction: 'in', queueName, connection: 'Storage' },
    ...Object.fromEntries(
      Object.entries(outputs).map(([binding, queue]) => [
        binding,
        { name: binding, type: 'queue', direction: 'out' as const, queueName: queue, connection: 'Storage' },
      ]),
    ),
  };
  return { metadata: { name, bindings }, handler: handler as Registration['handler'] };
}

describe('local queue host (Azurite)', () => {
  let azurite: Azurite;
  let service: QueueServiceClient;

  beforeAll(async () => {
    azurite = await new Azurite().start();
    service = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });

  afterAll(async () => {
    await azurite?.stop();
  });

  /** A host over `registrations` whose events can be awaited. */
  function startHost(registrations: Registration[]) {
    const events: HostEvent[] = [];
    const waiters: { match: (e: HostEvent) => boolean; resolve: (e: HostEvent) => void }[] = [];
    const host = new QueueHost({
      registrations,
      queueOptions: OPTIONS,
      settings: { Storage: azurite.connectionString },
      log: () => undefined,
      onEvent: (event) => {
        events.push(event);
        for (const w of [...waiters])
          if (w.match(event)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(event);
          }
      },
    });
    const next = (match: (e: HostEvent) => boolean) =>
      new Promise<HostEvent>((resolve) => {
        const seen = events.find(match);
        if (seen) resolve(seen);
        else waiters.push({ match, resolve });
      });
    return { host, events, next };
  }

  it('parses npm run host options, naming a bad one', () => {
    expect(parseHostArgs([])).toEqual({ workers: 1, fire: [] });
    expect(parseHostArgs(['--workers', '4', '--fire', 'collectSchedule'])).toEqual({
      workers: 4,
      fire: ['collectSchedule'],
    });
    expect(() => parseHostArgs(['--workers', '0'])).toThrow(/--workers must be a whole number from 1 to 16/);
    expect(() => parseHostArgs(['--queue', 'x'])).toThrow(/Unknown or incomplete option "--queue"/);
  });

  it('reads its settings from host.json as the host documents them', () => {
    expect(parseTimeSpan('00:01:00', 'x')).toBe(60_000);
    expect(parseTimeSpan('1.00:00:00.5', 'x')).toBe(86_400_500);
    expect(() => parseTimeSpan('60', 'extensions.queues.visibilityTimeout')).toThrow(
      /extensions\.queues\.visibilityTimeout/,
    );
    const options = queueOptionsFromHostJson({
      extensions: { queues: { batchSize: 32, newBatchThreshold: 16, visibilityTimeout: '00:00:30' } },
    });
    expect(options).toEqual({
      batchSize: 32,
      newBatchThreshold: 16,
      maxDequeueCount: 5,
      visibilityTimeoutMs: 30_000,
      maxPollingIntervalMs: 60_000,
    });
    expect(queueOptionsFromHostJson({}, 2).newBatchThreshold).toBe(16);
    expect(() => queueOptionsFromHostJson({ extensions: { queues: { batchSize: 64 } } })).toThrow(/batchSize/);
  });

  it('hands a JSON message over parsed with its trigger metadata, sends its outputs base64-encoded, deletes it', async () => {
    const seen: Seen[] = [];
    const { host, next } = startHost([
      queueFunction(
        'first',
        'qh-in',
        (body, context) => {
          seen.push({ body, metadata: context.triggerMetadata ?? {} });
          context.extraOutputs.set('out', [{ n: 1 }, 'plain text']);
        },
        { out: 'qh-out' },
      ),
    ]);
    await host.start();
    try {
      const input = service.getQueueClient('qh-in');
      const sent = await input.sendMessage(Buffer.from(JSON.stringify({ tenant: 'a' })).toString('base64'));
      const done = await next((e) => e.kind === 'completed' && e.messageId === sent.messageId);
      expect(done).toMatchObject({ kind: 'completed', functionName: 'first', dequeueCount: 1, sent: 2 });
      expect(seen).toHaveLength(1);
      expect(seen[0]?.body).toEqual({ tenant: 'a' });
      expect(seen[0]?.metadata).toMatchObject({
        dequeueCount: 1,
        id: sent.messageId,
        insertionTime: sent.insertedOn.toISOString(),
        expirationTime: sent.expiresOn.toISOString(),
        queueTrigger: '{"tenant":"a"}',
      });
      expect(typeof seen[0]?.metadata.popReceipt).toBe('string');
      expect(typeof seen[0]?.metadata.nextVisibleTime).toBe('string');
      // Deleted: nothing left, visible or not.
      expect((await input.getProperties()).approximateMessagesCount).toBe(0);
      const out = await service.getQueueClient('qh-out').receiveMessages({ numberOfMessages: 10 });
      expect(out.receivedMessageItems.map((m) => Buffer.from(m.messageText, 'base64').toString('utf8'))).toEqual([
        '{"n":1}',
        'plain text',
      ]);
    } finally {
      await host.stop();
    }
  });

  it('redelivers a message whose handler threw (dequeueCount 2), and poisons it after maxDequeueCount', async () => {
    const counts: number[] = [];
    const poisoned: Seen[] = [];
    const { host, next, events } = startHost([
      queueFunction('flaky', 'qh-flaky', (body, context) => {
        counts.push(Number(context.triggerMetadata?.dequeueCount));
        if (body === 'once' && counts.length === 1) throw new Error('first delivery fails');
        if (body === 'always') throw new Error('every delivery fails');
      }),
      queueFunction('flakyPoison', 'qh-flaky-poison', (body, context) => {
        poisoned.push({ body, metadata: context.triggerMetadata ?? {} });
      }),
    ]);
    await host.start();
    try {
      const queue = service.getQueueClient('qh-flaky');
      const once = await queue.sendMessage(Buffer.from('once').toString('base64'));
      await next((e) => e.kind === 'completed' && e.messageId === once.messageId);
      expect(counts).toEqual([1, 2]);
      expect(events.filter((e) => e.kind === 'failed').map((e) => e.kind === 'failed' && e.error)).toEqual([
        'first delivery fails',
      ]);

      counts.length = 0;
      const always = await queue.sendMessage(Buffer.from('always').toString('base64'));
      await next((e) => e.kind === 'poisoned' && e.messageId === always.messageId);
      expect(counts).toEqual([1, 2, 3]);
      await next((e) => e.kind === 'completed' && e.functionName === 'flakyPoison');
      expect(poisoned).toHaveLength(1);
      expect(poisoned[0]?.body).toBe('always');
      // The poison copy is a new message: its own ID, delivered for the first time.
      expect(poisoned[0]?.metadata.dequeueCount).toBe(1);
      expect(poisoned[0]?.metadata.id).not.toBe(always.messageId);
      expect((await queue.getProperties()).approximateMessagesCount).toBe(0);
    } finally {
      await host.stop();
    }
  });

  it('fails a message that is not base64 (the host decodes base64) until it is poisoned', async () => {
    const calls: unknown[] = [];
    const { host, next } = startHost([queueFunction('strict', 'qh-strict', (body) => calls.push(body))]);
    await host.start();
    try {
      const sent = await service.getQueueClient('qh-strict').sendMessage('not base64!');
      const poisoned = await next((e) => e.kind === 'poisoned' && e.messageId === sent.messageId);
      expect(poisoned).toMatchObject({ queue: 'qh-strict-poison' });
      expect(calls).toEqual([]);
    } finally {
      await host.stop();
    }
  });
});
