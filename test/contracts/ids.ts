/** Fresh IDs per test, so contract tests sharing one store (one Azurite) never see each other's rows. */
import { randomBytes } from 'node:crypto';

/** A random tenant ID (GUID, lower case). */
export function newTenantId(): string {
  const h = randomBytes(16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** A run ID as safe as newRunId makes them (a Table RowKey). */
export function newRunId(): string {
  return `run-${randomBytes(8).toString('hex')}`;
}

/** Everything an async iterable yields, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
