import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from '@jest/globals';
import { canonicalJson, contentHash } from '../../../../shared/adapters/tables/canonicalJson.js';
import { decodeIncident } from '../../../../shared/adapters/tables/payloadCodec.js';
import { RowEncoder, toVersion } from '../../../../shared/adapters/tables/snapshotRows.js';
import { demoTenants } from '../../../../devstack/demoTenants.js';
import { DefenderWorld } from '../../../../devstack/world.js';

/**
 * The contentHash as every stored row was written before the faster canonical form (kept verbatim): the new code
 * must give the same hash for the same incident, or an upgrade would rewrite every stored incident.
 */
function referenceCanonicalValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(referenceCanonicalValue);
  if (value !== null && typeof value === 'object') {
    const source = value as Record<string, unknown>;
    const sorted = Object.create(null) as Record<string, unknown>;
    for (const key of Object.keys(source).sort()) sorted[key] = referenceCanonicalValue(source[key]);
    return sorted;
  }
  return value;
}
const referenceJson = (value: unknown): string => JSON.stringify(referenceCanonicalValue(value));
const referenceHash = (value: unknown): string =>
  createHash('sha256').update(referenceJson(value), 'utf8').digest('hex');

/** Copies of /work/shared/reference/samples: every object with an incident's shape in them. */
function sampleIncidents(): unknown[] {
  const dir = new URL('../../../../devstack/samples', import.meta.url).pathname;
  const found: unknown[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const doc = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as { value?: unknown };
    found.push(doc, ...(Array.isArray(doc.value) ? doc.value : []));
  }
  return found;
}

function simulatorIncidents(): unknown[] {
  const world = new DefenderWorld({ seed: 1 });
  const incidents: unknown[] = [];
  for (const spec of demoTenants(3, { seed: 1, incidents: 40 })) {
    world.addTenant(spec);
    incidents.push(...world.graphIncidents(spec.tenantId), ...world.legacyIncidents(spec.tenantId));
  }
  const big = world.addIncident(demoTenants(1, { seed: 1 })[0]!.tenantId, { sizeBytes: 200_000 });
  incidents.push(...world.graphIncidents(demoTenants(1, { seed: 1 })[0]!.tenantId).filter((i) => i.id === big));
  return incidents;
}

/** Key orders and values where an object-building canonical form could differ. */
const EDGE_CASES: unknown[] = [
  { b: 1, a: 2, 10: 'ten', 9: 'nine', '01': 'zero-one', '-1': 'minus', '4294967295': 'not an index', Z: 0, é: 1 },
  JSON.parse('{"__proto__":{"x":1},"a":[{"__proto__":null}]}'),
  { nested: [[{ d: 2, c: [3, { f: null, e: true }] }]], s: 'quote " backslash \\ nul \u0000 emoji 😀 lone \ud800' },
  { n: [0, -0, 1e21, 1.5e-7, -12.25], empty: {}, list: [], t: '' },
  { undef: undefined, keep: 1 },
  [{ b: 1, a: 1 }, 'x', null],
  'a string',
  42,
  null,
];

describe('contentHash', () => {
  const all = [...sampleIncidents(), ...simulatorIncidents(), ...EDGE_CASES];

  it('is the same hash as every stored row was written with (samples, simulator incidents, edge cases)', () => {
    expect(all.length).toBeGreaterThan(200);
    for (const value of all) {
      expect(canonicalJson(value)).toBe(referenceJson(value));
      expect(contentHash(value)).toBe(referenceHash(value));
    }
  });

  it('pins known hashes (a change here would make every stored incident look changed)', () => {
    expect(contentHash({ b: [2, { d: 1, c: 0 }], a: 'x', 10: 1, 9: 2 })).toBe(
      createHash('sha256').update('{"9":2,"10":1,"a":"x","b":[2,{"c":0,"d":1}]}').digest('hex'),
    );
    expect(contentHash(JSON.parse('{"__proto__":{"x":1}}'))).toBe(
      createHash('sha256').update('{"__proto__":{"x":1}}').digest('hex'),
    );
  });

  it('keeps an own __proto__ key as data, not as the prototype', () => {
    const value = JSON.parse('{"z":1,"__proto__":{"polluted":true}}') as object;
    expect(canonicalJson(value)).toBe('{"__proto__":{"polluted":true},"z":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('stored payload', () => {
  it("keeps the API's key order and decodes to the incident with the reference hash", () => {
    const incidents = simulatorIncidents().slice(0, 50) as Record<string, unknown>[];
    const encoder = new RowEncoder({ tenantId: 't', source: 'graph', snapshotAt: '2026-11-30T00:00:00.000Z' });
    for (const incident of incidents) {
      const version = toVersion({
        incidentId: String(incident.id),
        lastUpdateTime: String(incident.lastUpdateDateTime ?? incident.lastUpdateTime),
        incident,
      });
      expect(version.hash).toBe(referenceHash(incident));
      const { row } = encoder.encode(version, version.idKey);
      const bytes = row.payload as Uint8Array;
      expect(gunzipSync(bytes).toString('utf8')).toBe(JSON.stringify(incident));
      expect(decodeIncident(bytes, version.hash)).toEqual(incident);
    }
  });
});
