/** Fresh IDs per test, so contract tests sharing one store (one Azurite) never see each other's rows. */
import { randomBytes } from 'node:crypto';
import type { FetchedIncident, SnapshotWriter, SourceKind, WriteResult } from '../../shared/ports.js';

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

/**
 * One page through a collection's writer, made durable at once: writePage, then flush (a writer may hold a page's
 * rows until then). The result counts the versions written by both, as one page write would.
 */
export async function writeThrough(
  writer: SnapshotWriter,
  source: SourceKind,
  incidents: readonly FetchedIncident[],
): Promise<WriteResult> {
  const events = [...((await writer.writePage(source, incidents)).events ?? [])];
  const flushed = await writer.flush();
  events.push(...(flushed.events ?? []));
  const changed = events.length > 0 ? events.length : flushed.changed;
  return changed > 0 ? { changed, ...(events.length > 0 ? { events } : {}) } : { changed: 0 };
}
