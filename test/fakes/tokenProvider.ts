/**
 * A scripted TokenProvider: per tenant, a token or an error to throw (e.g. a CollectorError of a chosen kind and
 * code, as the real provider throws after its tid/roles checks). Records every tenant it was asked for.
 */
import { CollectorError, type FailureKind } from '../../shared/domain/errors.js';
import type { TokenProvider } from '../../shared/ports.js';

export class ScriptedTokenProvider implements TokenProvider {
  readonly calls: string[] = [];
  private readonly failures = new Map<string, unknown>();

  /** Make `getToken` for the tenant throw `error` (every call) until `succeeds(tenantId)`. */
  fails(tenantId: string, error: unknown): void {
    this.failures.set(tenantId.toLowerCase(), error);
  }

  /** Make `getToken` for the tenant throw a CollectorError of this kind and code. */
  failsWith(tenantId: string, kind: FailureKind, code: string, message = `Token refused (${code}).`): void {
    this.fails(tenantId, new CollectorError(message, { code, kind }));
  }

  /** Make `getToken` for the tenant succeed again. */
  succeeds(tenantId: string): void {
    this.failures.delete(tenantId.toLowerCase());
  }

  async getToken(tenantId: string): Promise<string> {
    const key = tenantId.toLowerCase();
    this.calls.push(key);
    if (this.failures.has(key)) throw this.failures.get(key);
    return `token-for-${key}`;
  }
}
