/** A Logger that keeps every event (and a SecretProvider fake), so specs can assert on what was logged. */
import type { Logger, SecretProvider } from '../../shared/ports.js';

export interface LoggedEvent {
  readonly level: 'info' | 'warn' | 'error';
  readonly event: string;
  readonly fields: Record<string, unknown>;
}

export class RecordingLogger implements Logger {
  readonly events: LoggedEvent[] = [];

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'info', event, fields });
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'warn', event, fields });
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.events.push({ level: 'error', event, fields });
  }

  /** The event names logged so far, in order. */
  names(): string[] {
    return this.events.map((e) => e.event);
  }
}

/** A SecretProvider whose value the spec rotates: getSecret serves the cached value, refresh reads the current one. */
export class FakeSecretProvider implements SecretProvider {
  private current: { value: string; version: string };
  private cached: { value: string; version: string };
  refreshes = 0;

  constructor(value = 'secret-1', version = 'v1') {
    this.current = { value, version };
    this.cached = this.current;
  }

  /** The vault now holds a new version (the cache does not see it until refresh). */
  rotate(value: string, version: string): void {
    this.current = { value, version };
  }

  async getSecret(): Promise<{ value: string; version: string }> {
    return this.cached;
  }

  async refresh(): Promise<{ value: string; version: string }> {
    this.refreshes += 1;
    this.cached = this.current;
    return this.cached;
  }
}
