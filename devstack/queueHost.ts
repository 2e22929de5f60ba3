/**
 * A local Functions host for the app's queue and timer functions (for developers without Azure Functions Core
 * Tools, for the scale-out benchmark and for tests): it runs the REAL registered handlers (devstack/functionsCore.ts
 * captures them) against Azure Queue storage (Azurite) with the semantics the Functions host documents for Azure
 * Queue storage triggers (learn.microsoft.com/azure/azure-functions/functions-bindings-storage-queue-trigger and the
 * host.json reference, `extensions.queues`), with the values of the app's own host.json:
 *
 * - each queue-triggered function polls its queue and receives up to `batchSize` messages at a time, and fetches the
 *   next batch when the messages in flight get down to `newBatchThreshold` (so at most batchSize + newBatchThreshold
 *   run at once per process); an empty queue backs the polling off exponentially from 100 ms up to
 *   `maxPollingInterval`; a message this process itself sends to a queue it listens on wakes that listener at once;
 * - a received message stays invisible while its handler runs (received with a 10-minute visibility, renewed at half
 *   of it, as the host does); when the handler resolves, its output bindings are sent and the message is deleted;
 *   when it throws, the message is made visible again after `visibilityTimeout`; a failed delivery number
 *   `maxDequeueCount` (or a message received with a higher count) is copied to `<queue>-poison` and deleted, where a
 *   function triggered by the poison queue receives it as a new message;
 * - message encoding is the host's default (`messageEncoding: base64`): the trigger decodes the message text from
 *   base64 (a text that is not base64 fails the delivery, as in the host), and a body that parses as JSON is handed
 *   over parsed (the Node worker's rule); the trigger metadata carries `dequeueCount`, `id`, `insertionTime`,
 *   `expirationTime`, `nextVisibleTime`, `popReceipt` and `queueTrigger` (the Node worker's camel-cased names);
 * - queue output bindings (`context.extraOutputs`, or a `$return` queue binding): after the handler resolves, each
 *   value is sent — an array as one message per item, a string as is, bytes as bytes, anything else as JSON — base64
 *   encoded like the host's output binding;
 * - timer functions run only when asked (`fireTimer`), with their output bindings sent the same way.
 *
 * Connections: a binding's `connection` names an app setting holding a connection string (`AzureWebJobsStorage`);
 * identity-based connections (`<name>__accountName`) need Azure and are refused with the setting's name.
 */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import * as functionsModule from '@azure/functions';
import { QueueServiceClient, type DequeuedMessageItem, type QueueClient } from '@azure/storage-queue';
import type { BindingMetadata, Registration } from './functionsCore.js';

// @azure/functions is CommonJS whose InvocationContext Node's named-export detection misses: take it from the
// module object (the namespace's default under Node, the namespace itself under a bundler or jest).
const { InvocationContext } =
  (functionsModule as unknown as { default?: typeof functionsModule }).default ?? functionsModule;
type InvocationContext = functionsModule.InvocationContext;

/** The `extensions.queues` settings of host.json the trigger uses, durations in ms. */
export interface QueueTriggerOptions {
  readonly batchSize: number;
  readonly newBatchThreshold: number;
  readonly maxDequeueCount: number;
  /** How long a message whose handler threw stays invisible before its next delivery. */
  readonly visibilityTimeoutMs: number;
  readonly maxPollingIntervalMs: number;
}

/** The shortest polling interval of the host's exponential back-off (QueuePollingIntervals.Minimum). */
export const MIN_POLLING_INTERVAL_MS = 100;
/** The host receives messages with this visibility and renews it at half while the handler runs. */
export const PROCESSING_VISIBILITY_MS = 10 * 60_000;
/** Suffix of the poison queue the host moves a message to after maxDequeueCount failed deliveries. */
export const POISON_SUFFIX = '-poison';

/**
 * A host.json duration (`hh:mm:ss`, `d.hh:mm:ss`, seconds with an optional fraction) in ms; throws naming `field`.
 */
export function parseTimeSpan(text: unknown, field: string): number {
  const match = typeof text === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2}(?:\.\d+)?)$/.exec(text) : null;
  if (!match) throw new Error(`host.json ${field} must be a duration like "00:01:00", got ${JSON.stringify(text)}.`);
  const [, days, hours, minutes, secs] = match;
  return Math.round(
    ((Number(days ?? 0) * 24 + Number(hours)) * 3600 + Number(minutes) * 60 + Number(secs as string)) * 1000,
  );
}

/**
 * The queue trigger settings from a parsed host.json: `extensions.queues` with the documented defaults for what it
 * leaves out (batchSize 16, newBatchThreshold N × batchSize / 2 for N = `cpus`, maxDequeueCount 5,
 * visibilityTimeout 0, maxPollingInterval 1 minute). Throws naming the field on a malformed value.
 */
export function queueOptionsFromHostJson(hostJson: unknown, cpus = os.availableParallelism()): QueueTriggerOptions {
  const queues = ((hostJson as { extensions?: { queues?: Record<string, unknown> } } | null)?.extensions?.queues ??
    {}) as Record<string, unknown>;
  const whole = (field: string, fallback: number, min: number, max: number): number => {
    const value = queues[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      throw new Error(`host.json extensions.queues.${field} must be a whole number from ${min} to ${max}.`);
    return value;
  };
  const batchSize = whole('batchSize', 16, 1, 32);
  return {
    batchSize,
    newBatchThreshold: whole('newBatchThreshold', Math.floor((cpus * batchSize) / 2), 0, 10_000),
    maxDequeueCount: whole('maxDequeueCount', 5, 1, 10_000),
    visibilityTimeoutMs:
      queues.visibilityTimeout === undefined
        ? 0
        : parseTimeSpan(queues.visibilityTimeout, 'extensions.queues.visibilityTimeout'),
    maxPollingIntervalMs:
      queues.maxPollingInterval === undefined
        ? 60_000
        : Math.max(
            MIN_POLLING_INTERVAL_MS,
            parseTimeSpan(queues.maxPollingInterval, 'extensions.queues.maxPollingInterval'),
          ),
  };
}

/** Read a host.json file and return its queue trigger settings. */
export async function readQueueOptions(hostJsonFile: string): Promise<QueueTriggerOptions> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(hostJsonFile, 'utf8'));
  } catch (error) {
    throw new Error(`Cannot read ${hostJsonFile}: ${(error as Error).message}`, { cause: error });
  }
  return queueOptionsFromHostJson(parsed);
}

/** What happened to one invocation (for a supervisor, a test's gates, or the console). */
export type HostEvent =
  | {
      readonly kind: 'completed' | 'failed';
      readonly functionName: string;
      readonly messageId?: string;
      readonly dequeueCount?: number;
      /** The handler's error message (failed only). */
      readonly error?: string;
      /** The error's `code` property, when it has one (failed only). */
      readonly errorCode?: string;
      /** Messages sent by the invocation's output bindings. */
      readonly sent: number;
    }
  | { readonly kind: 'poisoned'; readonly functionName: string; readonly messageId: string; readonly queue: string };

/** Queue service calls so far (each one billable transaction in Azure). */
export interface QueueOperationCounts {
  /** Get Messages calls, empty ones included (polling). */
  receives: number;
  deletes: number;
  /** Update Message calls (visibility renewals and releases after a failure). */
  updates: number;
  /** Put Message calls (output bindings and poison copies). */
  sends: number;
}

export interface QueueHostOptions {
  readonly registrations: readonly Registration[];
  readonly queueOptions: QueueTriggerOptions;
  /** App settings the bindings' `connection` names are looked up in (default process.env). */
  readonly settings?: Readonly<Record<string, string | undefined>>;
  /** Only these functions listen (default: every queue-triggered function). Timers are always available to fire. */
  readonly functions?: readonly string[];
  /** A log line of an invocation (default: stderr). */
  readonly log?: (functionName: string, level: string, text: string) => void;
  readonly onEvent?: (event: HostEvent) => void;
}

type Handler = (input: unknown, context: InvocationContext) => unknown;

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** The Node worker's rule for a string input: parsed when it is JSON, the string otherwise. */
function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** One output value as message texts (base64 of the bytes the host would write). */
function encodeOutput(value: unknown): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    const bytes =
      typeof item === 'string'
        ? Buffer.from(item, 'utf8')
        : item instanceof Uint8Array
          ? Buffer.from(item)
          : Buffer.from(JSON.stringify(item), 'utf8');
    return bytes.toString('base64');
  });
}

/** The local host: listeners for queue-triggered functions, timers on demand. */
export class QueueHost {
  readonly counts: QueueOperationCounts = { receives: 0, deletes: 0, updates: 0, sends: 0 };
  private readonly listeners = new Map<string, QueueListener>();
  private readonly queues = new Map<string, QueueClient>();
  private readonly ensured = new Map<string, Promise<unknown>>();
  private running: Promise<void>[] = [];

  constructor(private readonly options: QueueHostOptions) {}

  get queueOptions(): QueueTriggerOptions {
    return this.options.queueOptions;
  }

  /** Create the queues the listening functions read (and their poison queues), then start polling. */
  async start(): Promise<void> {
    const wanted = this.options.functions;
    for (const registration of this.options.registrations) {
      const trigger = triggerOf(registration);
      if (trigger?.type !== 'queueTrigger') continue;
      if (wanted && !wanted.includes(registration.metadata.name)) continue;
      const queue = await this.queue(trigger);
      const poison = await this.queue({ ...trigger, queueName: `${trigger.queueName}${POISON_SUFFIX}` });
      this.listeners.set(
        registration.metadata.name,
        new QueueListener(this, registration, trigger, queue, poison, this.options.queueOptions),
      );
    }
    if (wanted) {
      const missing = wanted.filter((name) => !this.listeners.has(name));
      if (missing.length > 0) throw new Error(`No queue-triggered function named ${missing.join(', ')}.`);
    }
    this.running = [...this.listeners.values()].map((listener) => listener.run());
  }

  /** Names of the functions listening. */
  get listening(): string[] {
    return [...this.listeners.keys()];
  }

  /** Invocations in flight across the listeners. */
  get inFlight(): number {
    return [...this.listeners.values()].reduce((sum, l) => sum + l.inFlight, 0);
  }

  /** Stop polling and wait for the invocations in flight to settle. */
  async stop(): Promise<void> {
    for (const listener of this.listeners.values()) listener.stop();
    await Promise.all(this.running);
  }

  /**
   * Run the timer function `name` once now (not past due) and send its output bindings. Returns the messages sent
   * and the instant just before the first was sent (epoch ms). Throws when the function is not a timer, or fails.
   */
  async fireTimer(name: string): Promise<{ readonly sent: number; readonly sendingAt: number; texts: string[] }> {
    const registration = this.options.registrations.find((r) => r.metadata.name === name);
    const trigger = registration ? triggerOf(registration) : undefined;
    if (!registration || trigger?.type !== 'timerTrigger') {
      const timers = this.options.registrations.filter((r) => triggerOf(r)?.type === 'timerTrigger');
      throw new Error(`No timer function named "${name}" (timers: ${timers.map((r) => r.metadata.name).join(', ')}).`);
    }
    const context = this.context(registration, trigger);
    const now = new Date().toISOString();
    const timer = { isPastDue: false, schedule: { adjustForDST: true }, scheduleStatus: { last: now, next: now } };
    const result = await (registration.handler as Handler)(timer, context);
    const sendingAt = Date.now();
    const texts = await this.sendOutputs(registration, context, result);
    this.emit({ kind: 'completed', functionName: name, sent: texts.length });
    return { sent: texts.length, sendingAt, texts };
  }

  /** @internal Report an invocation's outcome to `onEvent`. */
  emit(event: HostEvent): void {
    this.options.onEvent?.(event);
  }

  /** @internal A fresh invocation context for `registration`, logging through the host's log. */
  context(registration: Registration, trigger: BindingMetadata, triggerMetadata?: Record<string, unknown>) {
    const name = registration.metadata.name;
    const log = this.options.log ?? ((fn, level, text) => process.stderr.write(`[${fn}] ${level}: ${text}\n`));
    const bindings = Object.values(registration.metadata.bindings);
    return new InvocationContext({
      invocationId: randomUUID(),
      functionName: name,
      logHandler: (level, ...args) => log(name, level, args.map(String).join(' ')),
      ...(triggerMetadata ? { triggerMetadata } : {}),
      options: {
        trigger: trigger as never,
        extraInputs: [],
        extraOutputs: bindings.filter((b) => b.direction === 'out' && b.name !== '$return') as never[],
      },
    });
  }

  /** @internal Send what the invocation set on its queue output bindings; returns the message texts sent. */
  async sendOutputs(registration: Registration, context: InvocationContext, returned: unknown): Promise<string[]> {
    const sent: string[] = [];
    for (const binding of Object.values(registration.metadata.bindings)) {
      if (binding.direction !== 'out' || binding.type !== 'queue') continue;
      const value = binding.name === '$return' ? returned : context.extraOutputs.get(binding.name);
      if (value === undefined || value === null) continue;
      const queue = await this.queue(binding);
      for (const text of encodeOutput(value)) {
        this.counts.sends++;
        await queue.sendMessage(text);
        sent.push(text);
      }
      if (sent.length > 0) for (const l of this.listeners.values()) if (l.queueName === binding.queueName) l.wake();
    }
    return sent;
  }

  /** @internal The queue a binding names (created once per process, as the host creates its queues). */
  async queue(binding: BindingMetadata): Promise<QueueClient> {
    const queueName = binding.queueName;
    if (!queueName) throw new Error(`Binding ${binding.name} has no queueName.`);
    const connection = binding.connection ?? 'AzureWebJobsStorage';
    const key = `${connection}|${queueName}`;
    let client = this.queues.get(key);
    if (!client) {
      client = this.service(connection).getQueueClient(queueName);
      this.queues.set(key, client);
    }
    let ensuring = this.ensured.get(key);
    if (!ensuring) {
      ensuring = client.createIfNotExists();
      this.ensured.set(key, ensuring);
    }
    await ensuring;
    return client;
  }

  private service(connection: string): QueueServiceClient {
    const settings = this.options.settings ?? process.env;
    const value = settings[connection];
    if (!value) {
      const identity = settings[`${connection}__accountName`] ?? settings[`${connection}__queueServiceUri`];
      throw new Error(
        identity
          ? `The local host needs a connection string in ${connection}; identity-based connections (${connection}__*) need Azure.`
          : `The app setting ${connection} (a storage connection string) is not set.`,
      );
    }
    return QueueServiceClient.fromConnectionString(value);
  }
}

function triggerOf(registration: Registration): BindingMetadata | undefined {
  return Object.values(registration.metadata.bindings).find((b) => b.direction === 'in' && b.type.endsWith('Trigger'));
}

/** One queue-triggered function's polling loop. */
class QueueListener {
  private readonly active = new Set<Promise<void>>();
  private stopped = false;
  private wakeUp: (() => void) | undefined;
  private delayMs = MIN_POLLING_INTERVAL_MS;

  constructor(
    private readonly host: QueueHost,
    private readonly registration: Registration,
    private readonly trigger: BindingMetadata,
    private readonly queue: QueueClient,
    private readonly poison: QueueClient,
    private readonly options: QueueTriggerOptions,
  ) {}

  get queueName(): string | undefined {
    return this.trigger.queueName;
  }

  get inFlight(): number {
    return this.active.size;
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Poll now (a message was just sent to this queue by this process). */
  wake(): void {
    this.delayMs = MIN_POLLING_INTERVAL_MS;
    this.wakeUp?.();
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  async run(): Promise<void> {
    while (!this.stopped) {
      // Fetch the next batch only when the messages in flight got down to newBatchThreshold.
      if (this.active.size > this.options.newBatchThreshold) {
        await Promise.race([...this.active, new Promise<void>((resolve) => (this.wakeUp = resolve))]);
        this.wakeUp = undefined;
        continue;
      }
      let messages: DequeuedMessageItem[];
      try {
        this.host.counts.receives++;
        const response = await this.queue.receiveMessages({
          numberOfMessages: this.options.batchSize,
          visibilityTimeout: PROCESSING_VISIBILITY_MS / 1000,
        });
        messages = response.receivedMessageItems;
      } catch (error) {
        process.stderr.write(`[${this.registration.metadata.name}] receive failed: ${(error as Error).message}\n`);
        messages = [];
      }
      if (this.stopped) {
        // Received while stopping: make them visible again at once rather than after the processing visibility.
        await Promise.all(messages.map((m) => this.release(m.messageId, m.popReceipt, 0).catch(() => undefined)));
        break;
      }
      if (messages.length === 0) {
        await this.pause(this.delayMs);
        this.delayMs = Math.min(this.delayMs * 2, this.options.maxPollingIntervalMs);
        continue;
      }
      this.delayMs = MIN_POLLING_INTERVAL_MS;
      for (const message of messages) {
        const work: Promise<void> = this.process(message).finally(() => {
          this.active.delete(work);
          this.wakeUp?.();
        });
        this.active.add(work);
      }
    }
    await Promise.all(this.active);
  }

  private async release(messageId: string, popReceipt: string, visibilityMs: number): Promise<string> {
    this.host.counts.updates++;
    const updated = await this.queue.updateMessage(messageId, popReceipt, undefined, Math.round(visibilityMs / 1000));
    return updated.popReceipt ?? popReceipt;
  }

  private async moveToPoison(message: DequeuedMessageItem, popReceipt: string): Promise<void> {
    this.host.counts.sends++;
    await this.poison.sendMessage(message.messageText);
    this.host.counts.deletes++;
    await this.queue.deleteMessage(message.messageId, popReceipt);
    this.host.emit({
      kind: 'poisoned',
      functionName: this.registration.metadata.name,
      messageId: message.messageId,
      queue: this.poison.name,
    });
  }

  private async process(message: DequeuedMessageItem): Promise<void> {
    const name = this.registration.metadata.name;
    let popReceipt = message.popReceipt;
    try {
      if (message.dequeueCount > this.options.maxDequeueCount) {
        await this.moveToPoison(message, popReceipt);
        return;
      }
      // Keep the message invisible while the handler runs (the host renews at half the processing visibility).
      const renew = setInterval(() => {
        this.release(message.messageId, popReceipt, PROCESSING_VISIBILITY_MS).then(
          (next) => (popReceipt = next),
          () => undefined,
        );
      }, PROCESSING_VISIBILITY_MS / 2);
      renew.unref();
      let failure: Error | undefined;
      let sent = 0;
      try {
        if (!isBase64(message.messageText))
          throw new Error(
            'The message is not base64 text (the host decodes queue messages from base64, messageEncoding).',
          );
        const text = Buffer.from(message.messageText, 'base64').toString('utf8');
        const context = this.host.context(this.registration, this.trigger, {
          dequeueCount: message.dequeueCount,
          id: message.messageId,
          insertionTime: message.insertedOn.toISOString(),
          expirationTime: message.expiresOn.toISOString(),
          nextVisibleTime: message.nextVisibleOn.toISOString(),
          popReceipt: message.popReceipt,
          queueTrigger: text,
        });
        const returned = await (this.registration.handler as Handler)(tryJson(text), context);
        sent = (await this.host.sendOutputs(this.registration, context, returned)).length;
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        clearInterval(renew);
      }
      const event = { functionName: name, messageId: message.messageId, dequeueCount: message.dequeueCount, sent };
      if (!failure) {
        this.host.counts.deletes++;
        await this.queue.deleteMessage(message.messageId, popReceipt);
        this.host.emit({ kind: 'completed', ...event });
        return;
      }
      const code = (failure as { code?: unknown }).code;
      this.host.emit({
        kind: 'failed',
        ...event,
        error: failure.message,
        ...(typeof code === 'string' ? { errorCode: code } : {}),
      });
      if (message.dequeueCount >= this.options.maxDequeueCount) await this.moveToPoison(message, popReceipt);
      else await this.release(message.messageId, popReceipt, this.options.visibilityTimeoutMs);
    } catch (error) {
      // The queue itself failed (delete, release, poison): the message reappears after its visibility timeout.
      process.stderr.write(`[${name}] message ${message.messageId}: ${(error as Error).message}\n`);
    }
  }
}
