/**
 * In-memory EventLog (design §9) for unit specs: per tenant, entries in sequence order with their CloudEvents.
 * Specs (and the fake snapshot store) `append` events; `read` and `cloudEvent` answer as the Table adapter does.
 */
import type { EventEntry, EventLog, IncidentCloudEvent } from '../../shared/ports.js';
import { NotFoundError } from '../../shared/domain/errors.js';

export class FakeEventLog implements EventLog {
  private readonly byTenant = new Map<string, { entry: EventEntry; event: IncidentCloudEvent }[]>();

  /** Record one event (its `data.sequence` must exceed the tenant's last); returns its entry. */
  append(event: IncidentCloudEvent): EventEntry {
    const tenantId = event.data.tenantId.toLowerCase();
    const list = this.byTenant.get(tenantId) ?? [];
    const last = list.at(-1);
    if (last && last.entry.sequence >= event.data.sequence)
      throw new Error(`sequence ${event.data.sequence} does not exceed ${last.entry.sequence}`);
    const severity = event.data.severity;
    const entry: EventEntry = {
      tenantId,
      sequence: event.data.sequence,
      incidentId: event.data.incidentId,
      lastUpdateTime: event.data.lastUpdateTime,
      type: event.type,
      time: event.time,
      ...(typeof severity === 'string' ? { severity } : {}),
    };
    list.push({ entry, event: structuredClone(event) });
    this.byTenant.set(tenantId, list);
    return entry;
  }

  /** The tenant's highest sequence, or undefined before its first event (synchronous, for the fake snapshot store). */
  highestSequence(tenantId: string): number | undefined {
    return this.byTenant.get(tenantId.toLowerCase())?.at(-1)?.entry.sequence;
  }

  /** Forget the tenant's events (its snapshots were purged, as purging the history partition removes them). */
  purge(tenantId: string): void {
    this.byTenant.delete(tenantId.toLowerCase());
  }

  /** Every tenant with at least one event. */
  tenants(): string[] {
    return [...this.byTenant.keys()].sort();
  }

  async read(tenantId: string, afterSequence: number, limit: number): Promise<EventEntry[]> {
    const list = this.byTenant.get(tenantId.toLowerCase()) ?? [];
    return list
      .filter((e) => e.entry.sequence > afterSequence)
      .slice(0, limit)
      .map((e) => e.entry);
  }

  async lastSequence(tenantId: string): Promise<number | undefined> {
    return this.highestSequence(tenantId);
  }

  async cloudEvent(entry: EventEntry): Promise<IncidentCloudEvent> {
    const found = (this.byTenant.get(entry.tenantId.toLowerCase()) ?? []).find(
      (e) => e.entry.sequence === entry.sequence,
    );
    if (!found) throw new NotFoundError(`no event ${entry.sequence} of tenant ${entry.tenantId}`, 'EVENT_NOT_FOUND');
    return structuredClone(found.event);
  }
}
