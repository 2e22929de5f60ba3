/**
 * How an incident's JSON is stored: gzip, then split into Edm.Binary properties of at most 64 KiB
 * (`payload`, `payload_1`, …) on the row itself while the row fits one entity; otherwise into PayloadChunks rows
 * (PK tenant, RK `${chunkKey}_${nnn}`, properties `data`, `data_1`, …) that the row references by key and count.
 * The chunk key is the SHA-256 of the compressed bytes (stored on the row as `payloadChunkKey`), not the content
 * hash: one version written twice in another key order has other bytes, and must not overwrite the chunks an
 * earlier row still references. Rows written before that column existed use their content hash.
 * Reading reassembles, gunzips and verifies the content hash, so a torn or mixed payload is an error, never
 * silently wrong data.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CollectorError } from '../../domain/errors.js';
import type { JsonObject } from '../../ports.js';
import { contentHash } from './canonicalJson.js';
import { type EntityValue, fitsInEntity, MAX_PROPERTY_BYTES, type PlainEntity } from './entitySize.js';
import { asNumber, asOptionalString } from './entityValues.js';
import { ErrorCode } from '../../domain/errorCodes.js';

export const PAYLOAD_ENCODING = 'gzip+json';
/** Binary parts per PayloadChunks row: 10 × 64 KiB is ~853 KiB of base64, inside the 1 MiB entity budget. */
export const PARTS_PER_CHUNK_ROW = 10;
const MAX_CHUNK_ROWS = 999;

/** gzip (zlib defaults) of a JSON text: the `gzip+json` payload encoding. */
export function compressJson(json: string): Buffer {
  return gzipSync(Buffer.from(json, 'utf8'));
}

function partName(base: string, index: number): string {
  return index === 0 ? base : `${base}_${index}`;
}

/** Split bytes into named ≤ 64 KiB binary properties. */
function binaryParts(base: string, bytes: Uint8Array): Record<string, Uint8Array> {
  const parts: Record<string, Uint8Array> = {};
  for (let offset = 0, i = 0; offset < bytes.byteLength; offset += MAX_PROPERTY_BYTES, i++) {
    parts[partName(base, i)] = bytes.subarray(offset, Math.min(bytes.byteLength, offset + MAX_PROPERTY_BYTES));
  }
  return parts;
}

export function chunkRowKey(hash: string, index: number): string {
  return `${hash}_${String(index).padStart(3, '0')}`;
}

export interface EncodedRow {
  /** The row with its payload properties (inline) or its chunk reference. */
  readonly row: PlainEntity;
  /** PayloadChunks rows the row references; write them before the row. */
  readonly chunks: readonly PlainEntity[];
}

/**
 * Attach a compressed payload to `base` (which carries every other column). Inline when the result fits one
 * entity (size budget and 252-property limit); otherwise as PayloadChunks rows.
 */
export function attachPayload(base: PlainEntity, _contentHash: string, compressed: Uint8Array): EncodedRow {
  const inline: PlainEntity = {
    ...base,
    payloadEncoding: PAYLOAD_ENCODING,
    payloadBytes: compressed.byteLength,
    payloadParts: Math.ceil(compressed.byteLength / MAX_PROPERTY_BYTES),
    payloadChunks: 0,
    ...binaryParts('payload', compressed),
  };
  if (fitsInEntity(inline)) return { row: inline, chunks: [] };
  const rowBytes = PARTS_PER_CHUNK_ROW * MAX_PROPERTY_BYTES;
  const count = Math.ceil(compressed.byteLength / rowBytes);
  if (count > MAX_CHUNK_ROWS) {
    throw new CollectorError('An incident payload is too large to store.', {
      code: ErrorCode.TABLE_PAYLOAD_TOO_LARGE,
      kind: 'permanent',
    });
  }
  const key = createHash('sha256').update(compressed).digest('hex');
  const chunks: PlainEntity[] = [];
  for (let i = 0; i < count; i++) {
    const slice = compressed.subarray(i * rowBytes, Math.min(compressed.byteLength, (i + 1) * rowBytes));
    const parts = binaryParts('data', slice);
    chunks.push({
      partitionKey: base.partitionKey,
      rowKey: chunkRowKey(key, i),
      parts: Object.keys(parts).length,
      ...parts,
    });
  }
  const row: PlainEntity = {
    ...base,
    payloadEncoding: PAYLOAD_ENCODING,
    payloadBytes: compressed.byteLength,
    payloadParts: 0,
    payloadChunks: count,
    payloadChunkKey: key,
  };
  return { row, chunks };
}

function corrupt(detail: string): CollectorError {
  return new CollectorError(`A stored incident payload is damaged (${detail}).`, {
    code: ErrorCode.TABLE_PAYLOAD_CORRUPT,
    kind: 'permanent',
  });
}

function binaryProperty(entity: Record<string, unknown>, name: string): Uint8Array {
  const value = entity[name];
  if (!(value instanceof Uint8Array)) throw corrupt(`missing part ${name}`);
  return value;
}

function collectParts(entity: Record<string, unknown>, base: string, count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => binaryProperty(entity, partName(base, i)));
}

/** The key prefix of a stored row's PayloadChunks rows (older rows: their content hash). */
export function chunkKeyOf(row: Record<string, unknown>, contentHash: string): string {
  return asOptionalString(row.payloadChunkKey) ?? contentHash;
}

/** Number of PayloadChunks rows a stored row references (0 when inline). */
export function chunkCount(row: Record<string, unknown>): number {
  return asNumber(row.payloadChunks) ?? 0;
}

/** The compressed bytes of a row: its inline parts, or the given chunk rows in key order. */
export function compressedBytes(
  row: Record<string, unknown>,
  chunkRows: readonly Record<string, unknown>[] = [],
): Buffer {
  const expected = asNumber(row.payloadBytes);
  if (row.payloadEncoding !== PAYLOAD_ENCODING || expected === undefined) throw corrupt('unknown encoding');
  const chunks = chunkCount(row);
  let parts: Uint8Array[];
  if (chunks === 0) {
    parts = collectParts(row, 'payload', asNumber(row.payloadParts) ?? 0);
  } else {
    if (chunkRows.length !== chunks) throw corrupt(`expected ${chunks} chunk rows, found ${chunkRows.length}`);
    parts = chunkRows.flatMap((chunk) => collectParts(chunk, 'data', asNumber(chunk.parts) ?? 0));
  }
  const bytes = Buffer.concat(parts);
  if (bytes.byteLength !== expected) throw corrupt('length mismatch');
  return bytes;
}

/** Gunzip and parse, verifying the content hash. */
export function decodeIncident(bytes: Uint8Array, expectedHash: string): JsonObject {
  let value: unknown;
  try {
    value = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch {
    throw corrupt('not valid gzip JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw corrupt('not a JSON object');
  if (contentHash(value) !== expectedHash) throw corrupt('content hash mismatch');
  return value as JsonObject;
}

export type { EntityValue };
