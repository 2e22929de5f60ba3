import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { contentHash } from '../../../../shared/adapters/tables/canonicalJson.js';
import {
  azureEntitySize,
  customPropertyCount,
  ENTITY_BUDGET_BYTES,
  fitsInEntity,
  MAX_CUSTOM_PROPERTIES,
  MAX_PROPERTY_BYTES,
  type PlainEntity,
  wireEntitySize,
} from '../../../../shared/adapters/tables/entitySize.js';
import {
  attachPayload,
  compressedBytes,
  compressJson,
  decodeIncident,
} from '../../../../shared/adapters/tables/payloadCodec.js';

const base: PlainEntity = { partitionKey: 'tenant', rowKey: '1', source: 'graph', title: 'x' };

function roundTrip(json: string): { inlineParts: number; chunks: number; back: string } {
  const incident = JSON.parse(json) as Record<string, unknown>;
  const hash = contentHash(incident);
  const encoded = attachPayload({ ...base, contentHash: hash }, hash, compressJson(json));
  for (const e of [encoded.row, ...encoded.chunks]) {
    expect(fitsInEntity(e)).toBe(true);
    for (const v of Object.values(e))
      if (v instanceof Uint8Array) expect(v.byteLength).toBeLessThanOrEqual(MAX_PROPERTY_BYTES);
  }
  const back = decodeIncident(compressedBytes(encoded.row, encoded.chunks), hash);
  return { inlineParts: Number(encoded.row.payloadParts), chunks: encoded.chunks.length, back: JSON.stringify(back) };
}

describe('payload encoding', () => {
  it('keeps small payloads inline in one binary property', () => {
    const json = JSON.stringify({ id: '1', text: 'hello'.repeat(100) });
    expect(roundTrip(json)).toEqual({ inlineParts: 1, chunks: 0, back: json });
  });

  it('splits a mid-size payload into several ≤ 64 KiB inline properties', () => {
    const json = JSON.stringify({ id: '2', blob: randomBytes(300_000).toString('base64') });
    const r = roundTrip(json);
    expect(r.chunks).toBe(0);
    expect(r.inlineParts).toBeGreaterThan(1);
    expect(r.back).toBe(json);
  });

  it('moves a payload beyond one entity into chunk rows', () => {
    const json = JSON.stringify({ id: '3', blob: randomBytes(3_000_000).toString('base64') });
    const r = roundTrip(json);
    expect(r.inlineParts).toBe(0);
    expect(r.chunks).toBeGreaterThan(1);
    expect(r.back).toBe(json);
  });

  it('detects damaged payloads: wrong hash, missing part, wrong length', () => {
    const json = JSON.stringify({ id: '4' });
    const hash = contentHash(JSON.parse(json));
    const { row } = attachPayload(base, hash, compressJson(json));
    expect(() => decodeIncident(compressedBytes(row), 'f'.repeat(64))).toThrow(
      expect.objectContaining({ code: 'TABLE_PAYLOAD_CORRUPT' }),
    );
    const { payload: _p, ...missing } = row;
    expect(() => compressedBytes(missing)).toThrow(expect.objectContaining({ code: 'TABLE_PAYLOAD_CORRUPT' }));
    expect(() => compressedBytes({ ...row, payloadBytes: 1 })).toThrow(
      expect.objectContaining({ code: 'TABLE_PAYLOAD_CORRUPT' }),
    );
    expect(() => decodeIncident(gzipSync('[1]'), hash)).toThrow(
      expect.objectContaining({ code: 'TABLE_PAYLOAD_CORRUPT' }),
    );
  });
});

describe('entity sizes', () => {
  it('counts strings as UTF-16 for Azure and UTF-8 JSON for the wire', () => {
    const e: PlainEntity = { partitionKey: 'p', rowKey: 'r', s: '😀é' };
    expect(azureEntitySize(e)).toBe(4 + 2 * 2 + 8 + 2 + (3 * 2 + 4));
    expect(wireEntitySize(e)).toBe(Buffer.byteLength(JSON.stringify({ PartitionKey: 'p', RowKey: 'r', s: '😀é' })));
  });

  it('counts the wire bytes of escaped, control, non-ASCII and plain strings exactly', () => {
    const values = ['plain ASCII ~', 'quote " and \\', 'tab\tnul\u0000del\u007f', 'é', '😀', 'lone \ud800', ''];
    for (const s of values) {
      const e: PlainEntity = { partitionKey: 'p', rowKey: 'r', [`k${s.length}`]: s };
      expect(wireEntitySize(e)).toBe(
        Buffer.byteLength(
          JSON.stringify({ PartitionKey: 'p', RowKey: 'r', ...e, partitionKey: undefined, rowKey: undefined }),
        ),
      );
    }
  });

  it('counts binary as bytes for Azure and base64 plus annotation on the wire', () => {
    const e: PlainEntity = { partitionKey: 'p', rowKey: 'r', b: new Uint8Array(30) };
    expect(azureEntitySize(e)).toBe(4 + 4 + 8 + 2 + 34);
    expect(wireEntitySize(e)).toBe(
      Buffer.byteLength(
        JSON.stringify({
          PartitionKey: 'p',
          RowKey: 'r',
          b: Buffer.alloc(30).toString('base64'),
          'b@odata.type': 'Edm.Binary',
        }),
      ),
    );
  });

  it('enforces the 252 custom-property limit that Azurite does not', () => {
    const many: Record<string, number> = {};
    for (let i = 0; i < MAX_CUSTOM_PROPERTIES + 1; i++) many[`p${i}`] = i;
    const e = { partitionKey: 'p', rowKey: 'r', ...many } as PlainEntity;
    expect(customPropertyCount(e)).toBe(253);
    expect(wireEntitySize(e)).toBeLessThan(ENTITY_BUDGET_BYTES);
    expect(fitsInEntity(e)).toBe(false);
  });
});

describe('contentHash', () => {
  it('is independent of key order and sensitive to values', () => {
    expect(contentHash({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(
      contentHash({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
    expect(contentHash({ a: 1 })).not.toBe(contentHash({ a: 2 }));
    expect(contentHash(JSON.parse('{"__proto__":{"x":1}}'))).not.toBe(contentHash({}));
  });
});
