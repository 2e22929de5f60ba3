/** A Clock the test moves by hand: nothing in a spec depends on the wall clock. */
import type { Clock } from '../../shared/ports.js';

export class ManualClock implements Clock {
  private ms: number;

  /** `start`: an ISO-8601 instant (default 2026-11-24T12:00:00.000Z). */
  constructor(start = '2026-11-24T12:00:00.000Z') {
    this.ms = Date.parse(start);
    if (Number.isNaN(this.ms)) throw new Error(`ManualClock: start is not an ISO-8601 instant: ${start}`);
  }

  now(): Date {
    return new Date(this.ms);
  }

  /** Move forward by `ms` milliseconds (negative moves are refused: time never runs backwards here). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new Error(`ManualClock.advance: ms must be >= 0, got ${ms}`);
    this.ms += ms;
  }

  /** Jump to an instant at or after the current one. */
  set(iso: string): void {
    const ms = Date.parse(iso);
    if (Number.isNaN(ms) || ms < this.ms) throw new Error(`ManualClock.set: ${iso} is not an instant at or after now`);
    this.ms = ms;
  }

  /** The current instant as ISO-8601 (what the stores stamp). */
  iso(): string {
    return this.now().toISOString();
  }
}
