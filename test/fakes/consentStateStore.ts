/**
 * In-memory ConsentStateStore, faithful to TableConsentStateStore: keyed by the state's sha256 (the state itself is
 * never kept), save replaces, consume returns the record once and deletes it, deleteExpired removes at most `limit`
 * states whose `expiresAt` sorts before `now` (the table compares the strings).
 */
import { stateKey } from '../../shared/adapters/tables/consentStateStore.js';
import type { ConsentState, ConsentStateStore } from '../../shared/ports.js';
import { Faults } from './journal.js';

export class FakeConsentStateStore implements ConsentStateStore {
  private readonly rows = new Map<string, ConsentState>();
  readonly faults = new Faults();

  /** How many states are stored (consumed and pruned ones are gone). */
  get size(): number {
    return this.rows.size;
  }

  async save(state: string, record: ConsentState): Promise<void> {
    this.faults.check('save');
    this.rows.set(stateKey(state), { ...record });
  }

  async consume(state: string): Promise<ConsentState | undefined> {
    this.faults.check('consume');
    const key = stateKey(state);
    const record = this.rows.get(key);
    if (!record) return undefined;
    this.rows.delete(key);
    return { ...record };
  }

  async deleteExpired(now: string, limit: number): Promise<number> {
    this.faults.check('deleteExpired');
    const expired = [...this.rows.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .filter(([, r]) => r.expiresAt < now)
      .slice(0, limit);
    for (const [key] of expired) this.rows.delete(key);
    return expired.length;
  }
}
