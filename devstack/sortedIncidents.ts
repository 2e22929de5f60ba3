/**
 * One tenant's incidents kept sorted by a fixed-width time key (ties broken by ID), so range filters are two
 * binary searches and a page is a slice — per-request work stays proportional to the page, not the tenant.
 */
import type { IncidentModel } from './incidentModel.js';

export type TimeKey = 'lastUpdate' | 'createdAt';

export class SortedIncidents {
  private readonly items: IncidentModel[] = [];

  constructor(private readonly key: TimeKey) {}

  get length(): number {
    return this.items.length;
  }

  at(index: number): IncidentModel | undefined {
    return this.items[index];
  }

  all(): readonly IncidentModel[] {
    return this.items;
  }

  insert(incident: IncidentModel): void {
    this.items.splice(this.lowerBound(incident[this.key], incident.id), 0, incident);
  }

  /** Remove by identity; `keyValue` is the key the incident was inserted with (before a mutation). */
  remove(incident: IncidentModel, keyValue: string): void {
    let i = this.lowerBound(keyValue, incident.id);
    while (i < this.items.length && this.items[i] !== incident) i++;
    if (this.items[i] === incident) this.items.splice(i, 1);
  }

  /** Index range [start, end) of items whose key lies within the bounds. */
  range(
    from: string | undefined,
    fromInclusive: boolean,
    to: string | undefined,
    toInclusive: boolean,
  ): [number, number] {
    const start =
      from === undefined ? 0 : fromInclusive ? this.lowerBound(from, -Infinity) : this.lowerBound(from, Infinity);
    const end =
      to === undefined
        ? this.items.length
        : toInclusive
          ? this.lowerBound(to, Infinity)
          : this.lowerBound(to, -Infinity);
    return [start, Math.max(start, end)];
  }

  /** First index whose (key, id) is ≥ (keyValue, id). */
  private lowerBound(keyValue: string, id: number): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.items[mid] as IncidentModel;
      const k = item[this.key];
      if (k < keyValue || (k === keyValue && item.id < id)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
