/**
 * In-memory fakes of the subscription and delivery ports (design §9) for unit specs: FakeSubscriptionStore,
 * FakeDeliveryStateStore (versions stand in for ETags), FakeSubscriptionSecrets and ScriptedWebhookSender.
 */
import { NotFoundError } from '../../shared/domain/errors.js';
import type { SubscriptionRecord, SubscriptionStatus } from '../../shared/domain/subscription.js';
import type {
  DeadLetter,
  DeliveryOutcome,
  DeliveryStateStore,
  IncidentCloudEvent,
  PairState,
  PendingIncident,
  SubscriptionDeliveryState,
  SubscriptionSecretStore,
  SubscriptionStore,
  WebhookSender,
  WebhookTarget,
} from '../../shared/ports.js';

function notFound(id: string): NotFoundError {
  return new NotFoundError(`Subscription ${id} does not exist.`, 'SUBSCRIPTION_NOT_FOUND');
}

export class FakeSubscriptionStore implements SubscriptionStore {
  private readonly rows = new Map<string, SubscriptionRecord>();

  async add(record: SubscriptionRecord): Promise<void> {
    if (this.rows.has(record.id)) throw new Error(`subscription ${record.id} exists`);
    this.rows.set(record.id, structuredClone(record));
  }

  async get(id: string): Promise<SubscriptionRecord | undefined> {
    const row = this.rows.get(id.toLowerCase());
    return row && structuredClone(row);
  }

  async list(): Promise<SubscriptionRecord[]> {
    return [...this.rows.values()].sort((a, b) => a.id.localeCompare(b.id)).map((r) => structuredClone(r));
  }

  async setStatus(id: string, status: SubscriptionStatus, reason?: string): Promise<SubscriptionRecord> {
    const row = this.rows.get(id.toLowerCase());
    if (!row) throw notFound(id);
    const { disabledReason: _dropped, ...rest } = row;
    const next: SubscriptionRecord = {
      ...rest,
      status,
      ...(status === 'disabled' && reason !== undefined ? { disabledReason: reason } : {}),
    };
    this.rows.set(row.id, next);
    return structuredClone(next);
  }

  async remove(id: string): Promise<void> {
    if (!this.rows.delete(id.toLowerCase())) throw notFound(id);
  }
}

interface CursorRow {
  sequence: number;
  version: number;
  replayed: boolean;
}

export class FakeDeliveryStateStore implements DeliveryStateStore {
  private readonly cursors = new Map<string, CursorRow>();
  private readonly pendingRows = new Map<string, PendingIncident>();
  private readonly letters = new Map<string, DeadLetter>();
  private versions = 0;

  private static key(...parts: (string | number)[]): string {
    return parts.join('|');
  }

  async state(subscriptionId: string): Promise<SubscriptionDeliveryState> {
    const cursors = new Map<string, number>();
    for (const [k, row] of this.cursors) {
      const [sub, tenant] = k.split('|');
      if (sub === subscriptionId && tenant) cursors.set(tenant, row.sequence);
    }
    return {
      cursors,
      pending: [...this.pendingRows.entries()]
        .filter(([k]) => k.startsWith(`${subscriptionId}|`))
        .map(([, p]) => structuredClone(p)),
      deadLetters: [...this.letters.values()]
        .filter((d) => d.subscriptionId === subscriptionId)
        .sort((a, b) => a.tenantId.localeCompare(b.tenantId) || a.sequence - b.sequence)
        .map((d) => structuredClone(d)),
    };
  }

  async pair(subscriptionId: string, tenantId: string): Promise<PairState> {
    const row = this.cursors.get(FakeDeliveryStateStore.key(subscriptionId, tenantId.toLowerCase()));
    const pending = [...this.pendingRows.entries()]
      .filter(([k]) => k.startsWith(`${subscriptionId}|${tenantId.toLowerCase()}|`))
      .map(([, p]) => structuredClone(p));
    return row
      ? { cursor: row.sequence, cursorVersion: String(row.version), replayed: row.replayed, pending }
      : { pending };
  }

  async saveCursor(
    subscriptionId: string,
    tenantId: string,
    sequence: number,
    version?: string,
  ): Promise<string | undefined> {
    const key = FakeDeliveryStateStore.key(subscriptionId, tenantId.toLowerCase());
    const row = this.cursors.get(key);
    if ((row === undefined) !== (version === undefined)) return undefined;
    if (row && String(row.version) !== version) return undefined;
    const next = { sequence, version: ++this.versions, replayed: row?.replayed ?? false };
    this.cursors.set(key, next);
    return String(next.version);
  }

  async resetCursor(subscriptionId: string, tenantId: string, sequence: number): Promise<void> {
    this.cursors.set(FakeDeliveryStateStore.key(subscriptionId, tenantId.toLowerCase()), {
      sequence,
      version: ++this.versions,
      replayed: true,
    });
  }

  async putPending(subscriptionId: string, pending: PendingIncident): Promise<void> {
    this.pendingRows.set(
      FakeDeliveryStateStore.key(subscriptionId, pending.tenantId.toLowerCase(), pending.incidentId),
      structuredClone(pending),
    );
  }

  async deletePending(subscriptionId: string, tenantId: string, incidentId: string): Promise<void> {
    this.pendingRows.delete(FakeDeliveryStateStore.key(subscriptionId, tenantId.toLowerCase(), incidentId));
  }

  async addDeadLetter(letter: DeadLetter): Promise<void> {
    this.letters.set(
      FakeDeliveryStateStore.key(letter.subscriptionId, letter.tenantId.toLowerCase(), letter.sequence),
      structuredClone(letter),
    );
  }

  async deleteDeadLetter(subscriptionId: string, tenantId: string, sequence: number): Promise<void> {
    this.letters.delete(FakeDeliveryStateStore.key(subscriptionId, tenantId.toLowerCase(), sequence));
  }

  async purge(subscriptionId: string): Promise<void> {
    for (const map of [this.cursors, this.pendingRows, this.letters] as Map<string, unknown>[])
      for (const k of [...map.keys()]) if (k.startsWith(`${subscriptionId}|`)) map.delete(k);
  }
}

export class FakeSubscriptionSecrets implements SubscriptionSecretStore {
  readonly values = new Map<string, string>();

  async put(subscriptionId: string, secret: string): Promise<void> {
    this.values.set(subscriptionId, secret);
  }

  async get(subscriptionId: string): Promise<string> {
    const v = this.values.get(subscriptionId);
    if (v === undefined) throw new NotFoundError(`No secret for ${subscriptionId}.`, 'SUBSCRIPTION_SECRET_NOT_FOUND');
    return v;
  }

  async delete(subscriptionId: string): Promise<void> {
    this.values.delete(subscriptionId);
  }
}

/** One send the ScriptedWebhookSender saw. */
export interface SentEvent {
  readonly url: string;
  readonly id: string;
  readonly body: string;
  readonly outcome: DeliveryOutcome['kind'];
}

/**
 * A WebhookSender whose answers a spec decides per URL: `script(url, answer)` where `answer(event, n)` returns the
 * outcome of the n-th (0-based) send to that URL; unscripted URLs are delivered. Records every send.
 */
export class ScriptedWebhookSender implements WebhookSender {
  readonly sent: SentEvent[] = [];
  private readonly scripts = new Map<string, (event: IncidentCloudEvent, n: number) => DeliveryOutcome>();
  private readonly counts = new Map<string, number>();
  /** Called before answering (a spec may await a gate here). */
  onSend?: (target: WebhookTarget, event: IncidentCloudEvent) => Promise<void>;

  script(url: string, answer: (event: IncidentCloudEvent, n: number) => DeliveryOutcome): void {
    this.scripts.set(url, answer);
  }

  async send(target: WebhookTarget, event: IncidentCloudEvent): Promise<DeliveryOutcome> {
    await this.onSend?.(target, event);
    const n = this.counts.get(target.url) ?? 0;
    this.counts.set(target.url, n + 1);
    const outcome = this.scripts.get(target.url)?.(event, n) ?? { kind: 'delivered', status: 200 };
    this.sent.push({ url: target.url, id: event.id, body: JSON.stringify(event), outcome: outcome.kind });
    return outcome;
  }

  /** Event ids delivered (2xx) to `url`, in order: a send counts when its outcome was `delivered`. */
  idsTo(url: string): string[] {
    return this.sent.filter((s) => s.url === url && s.outcome === 'delivered').map((s) => s.id);
  }
}
