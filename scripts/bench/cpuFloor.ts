/**
 * The CPU floor of writing one incident version: what Node's own primitives cost, in a tight loop, for the work no
 * collector can skip — parse the API's page text (`JSON.parse`), serialize each incident once
 * (`JSON.stringify`), compress it once (`gzipSync`, the store's codec) and encode the bytes for the Table wire
 * format (Edm.Binary travels as base64 in the JSON body of a transaction). No hashing, no HTTP, no TLS, no SDK.
 * The pages are the Graph simulator's own rendering (`$expand=alerts`, 50 per page) of the same seeded tenants
 * the fleet collects, so the floor and the collector's CPU per version describe the same bytes.
 */
import { gzipSync } from 'node:zlib';
import { DefenderWorld, type SimTenantSpec } from '../../devstack/world.js';

export interface CpuFloorInput {
  /** Tenants as the fleet's stack seeds them (same seed, same specs: the same incidents). */
  readonly specs: readonly SimTenantSpec[];
  /** World seed (the local stack's default is 1). */
  readonly seed?: number;
  /** Incidents per Graph page (`$top`; the collector asks for 50). */
  readonly pageSize?: number;
  /** Measured passes over all pages after one warm-up pass (the minimum is taken: least disturbed by others). */
  readonly passes?: number;
}

export interface CpuFloor {
  /** CPU (user + system) milliseconds per incident version, the least of the passes. */
  readonly msPerIncident: number;
  readonly incidents: number;
  /** Mean serialized incident size in bytes (UTF-8 JSON), for the reader. */
  readonly meanIncidentBytes: number;
  /** Mean gzip size in bytes (what a stored row's payload holds; the cost model's storage figure). */
  readonly meanCompressedBytes: number;
  readonly passesMs: readonly number[];
}

/** The page texts Graph would answer for these tenants (value arrays of `pageSize`, a nextLink between them). */
export function graphPageTexts(specs: readonly SimTenantSpec[], seed = 1, pageSize = 50): string[] {
  const world = new DefenderWorld({ seed });
  const texts: string[] = [];
  for (const spec of specs) {
    world.addTenant(spec);
    const incidents = world.graphIncidents(spec.tenantId);
    for (let at = 0; at < incidents.length; at += pageSize) {
      const value = incidents.slice(at, at + pageSize);
      const more = at + pageSize < incidents.length;
      texts.push(
        JSON.stringify({
          '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#security/incidents',
          value,
          ...(more ? { '@odata.nextLink': `https://graph.microsoft.com/v1.0/security/incidents?$skip=${at}` } : {}),
        }),
      );
    }
  }
  return texts;
}

/** One pass: parse every page, then per incident stringify once, gzip once, base64 once. Returns incidents seen. */
function onePass(texts: readonly string[]): { incidents: number; bytes: number; compressed: number; sink: number } {
  let incidents = 0;
  let bytes = 0;
  let compressed = 0;
  let sink = 0;
  for (const text of texts) {
    const page = JSON.parse(text) as { value: unknown[] };
    for (const incident of page.value) {
      const json = JSON.stringify(incident);
      const gz = gzipSync(Buffer.from(json, 'utf8'));
      const wire = gz.toString('base64');
      incidents++;
      bytes += Buffer.byteLength(json, 'utf8');
      compressed += gz.byteLength;
      sink += wire.length;
    }
  }
  return { incidents, bytes, compressed, sink };
}

/** Measures the floor in this process (run it while nothing else of the benchmark is busy). */
export function measureCpuFloor(input: CpuFloorInput): CpuFloor {
  const texts = graphPageTexts(input.specs, input.seed ?? 1, input.pageSize ?? 50);
  const warm = onePass(texts);
  if (warm.incidents === 0) throw new Error('The CPU floor needs at least one incident.');
  const passesMs: number[] = [];
  for (let i = 0; i < (input.passes ?? 3); i++) {
    const before = process.cpuUsage();
    const pass = onePass(texts);
    const used = process.cpuUsage(before);
    if (pass.sink <= 0) throw new Error('The CPU floor pass produced no output.');
    passesMs.push((used.user + used.system) / 1000);
  }
  return {
    msPerIncident: Math.min(...passesMs) / warm.incidents,
    incidents: warm.incidents,
    meanIncidentBytes: warm.bytes / warm.incidents,
    meanCompressedBytes: warm.compressed / warm.incidents,
    passesMs,
  };
}
