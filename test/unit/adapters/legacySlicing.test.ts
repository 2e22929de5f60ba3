import { describe, expect, it } from '@jest/globals';
import { LegacySlicer } from '../../../shared/adapters/legacySlicing.js';
import { M365dIncidentSource } from '../../../shared/adapters/m365dSource.js';
import type { IncidentHttp } from '../../../shared/adapters/http.js';
import { RequestStats } from '../../../shared/adapters/requestStats.js';
import type { IncidentPage, JsonObject } from '../../../shared/ports.js';
import { compareInstants, toFixedWidth } from '../../../shared/domain/time.js';

describe('LegacySlicer decisions', () => {
  it('starts with the whole window and finishes after one complete slice', () => {
    const slicer = new LegacySlicer(1_000, 1_999);
    const slice = slicer.next();
    expect(slice).toEqual({ startMs: 1_000, endMs: 2_000, first: true, last: true, paged: false });
    slicer.complete(slice!, 42);
    expect(slicer.next()).toBeUndefined();
  });

  it('splits a full slice so the next query expects about 65, judged by the denser estimate', () => {
    const slicer = new LegacySlicer(0, 99_999);
    const slice = slicer.next()!;
    // 100 answers spread evenly over the whole slice: density 100 per 100,000 ms → 65,000 ms.
    slicer.overflow(
      slice,
      Array.from({ length: 100 }, (_, i) => i * 1_000),
    );
    expect(slicer.next()).toMatchObject({ startMs: 0, endMs: 65_000, first: true, last: false });
  });

  it('asks for the quiet stretch below the answers whole, then sizes by the density the answers showed', () => {
    const slicer = new LegacySlicer(0, 99_999);
    const slice = slicer.next()!;
    slicer.overflow(
      slice,
      Array.from({ length: 100 }, (_, i) => 90_000 + i * 100),
    ); // newest first: 100 in 10 s
    const below = slicer.next()!;
    expect(below).toMatchObject({ startMs: 0, endMs: 90_000 });
    slicer.complete(below, 3);
    expect(slicer.next()).toMatchObject({ startMs: 90_000, endMs: 96_500 });
  });

  it('shrinks an overfull slice to at most 65% when the answers start at its start, and widens after sparse ones', () => {
    const slicer = new LegacySlicer(0, 1_000_000);
    const slice = slicer.next()!;
    slicer.overflow(slice, [0, ...Array(99).fill(999_999)]);
    const narrow = slicer.next()!;
    expect(narrow.startMs).toBe(0);
    expect(narrow.endMs - narrow.startMs).toBeLessThanOrEqual(650_000);
    slicer.complete(narrow, 0);
    const wider = slicer.next()!;
    expect(wider.startMs).toBe(narrow.endMs);
    expect(wider.endMs - wider.startMs).toBe(Math.min(8 * (narrow.endMs - narrow.startMs), 1_000_001 - narrow.endMs));
  });

  it('narrows to the one millisecond all answers share', () => {
    const slicer = new LegacySlicer(0, 1_000_000);
    slicer.overflow(slicer.next()!, Array(100).fill(5));
    const below = slicer.next()!;
    expect(below).toMatchObject({ startMs: 0, endMs: 5 });
    slicer.complete(below, 0);
    const instant = slicer.next()!;
    expect(instant).toMatchObject({ startMs: 5, endMs: 6, paged: false });
    slicer.overflow(instant, Array(100).fill(5));
    expect(slicer.next()).toMatchObject({ startMs: 5, endMs: 6, paged: true });
  });

  it('pages a one-millisecond slice that still overflows', () => {
    const slicer = new LegacySlicer(10, 10);
    const slice = slicer.next()!;
    slicer.overflow(slice, Array(100).fill(10));
    expect(slicer.next()).toMatchObject({ startMs: 10, endMs: 11, paged: true, last: true });
  });
});

/**
 * An in-memory legacy API answering `$filter`/`$top`/`$skip` in an order unrelated to time (none is
 * documented) — stable between calls, as `$skip` needs — or newest first, as the real service does.
 */
function fakeLegacyApi(
  incidents: JsonObject[],
  order: 'scrambled' | 'newestFirst' = 'scrambled',
): { http: IncidentHttp; queries: string[] } {
  const rank = (i: JsonObject) =>
    order === 'scrambled'
      ? (Number(i.incidentId) * 2_654_435_761) % 4_294_967_296
      : -Date.parse(String(i.lastUpdateTime));
  const queries: string[] = [];
  const http: IncidentHttp = {
    stats: new RequestStats(),
    async getJson(url) {
      const params = new URL(url).searchParams;
      const filter = params.get('$filter') ?? '';
      queries.push(filter);
      const clauses = [...filter.matchAll(/lastUpdateTime (ge|gt|le|lt) (\S+)/g)].map((m) => ({
        op: m[1]!,
        value: toFixedWidth(m[2]!),
      }));
      const matches = incidents.filter((i) =>
        clauses.every(({ op, value }) => {
          const c = compareInstants(i.lastUpdateTime as string, value);
          return op === 'ge' ? c >= 0 : op === 'gt' ? c > 0 : op === 'le' ? c <= 0 : c < 0;
        }),
      );
      const shuffled = [...matches].sort((a, b) => rank(a) - rank(b) || Number(a.incidentId) - Number(b.incidentId));
      const skip = Number(params.get('$skip') ?? 0);
      const top = Number(params.get('$top') ?? 100);
      return { '@odata.context': 'x', value: shuffled.slice(skip, skip + top) };
    },
  };
  return { http, queries };
}

function incident(id: number, lastUpdateTime: string): JsonObject {
  return { incidentId: id, lastUpdateTime, status: 'Active' };
}

async function collect(pages: AsyncIterable<IncidentPage>): Promise<IncidentPage[]> {
  const all: IncidentPage[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

const tokenProvider = { getToken: async () => 'token' };
const window = { from: '2026-11-01T00:00:00.0000000Z', to: '2026-11-02T00:00:00.0000000Z' };

describe('M365dIncidentSource slicing (in-memory API)', () => {
  it.each(['scrambled', 'newestFirst'] as const)(
    'returns every incident of a dense window (%s answers), advancing the checkpoint only over complete slices',
    async (order) => {
      const start = Date.parse(window.from);
      // 1,000 incidents, clustered: most in one busy hour, some spread over the day, a few at the exact ends.
      const incidents = Array.from({ length: 1_000 }, (_, i) => {
        const ms = i < 700 ? start + 3_600_000 * 5 + i * 4_000 : start + ((i * 7_919_000) % 86_400_000);
        return incident(i + 1, `${new Date(ms).toISOString().slice(0, 22)}Z`);
      });
      incidents.push(
        incident(2_001, window.from),
        incident(2_002, '2026-11-02T00:00:00Z'),
        incident(2_003, '2026-11-02T00:00:00.0000001Z'),
      );
      const { http, queries } = fakeLegacyApi(incidents, order);
      const source = new M365dIncidentSource({ endpoint: 'https://legacy.example', tokenProvider, http });

      const pages = await collect(source.pages('t', window));

      const ids = new Set(pages.flatMap((p) => p.incidents.map((i) => i.incidentId)));
      expect(ids.size).toBe(1_002);
      expect(ids.has('2003')).toBe(false); // past the window's end
      // Every checkpoint is safe: all incidents at or before it were yielded by then.
      const seen = new Set<string>();
      for (const page of pages) {
        page.incidents.forEach((i) => seen.add(i.incidentId));
        if (page.checkpoint === undefined) continue;
        const due = incidents.filter(
          (i) =>
            compareInstants(i.lastUpdateTime as string, page.checkpoint!) <= 0 &&
            compareInstants(i.lastUpdateTime as string, window.to) <= 0,
        );
        expect(due.every((i) => seen.has(String(i.incidentId)))).toBe(true);
      }
      expect(pages.at(-1)?.checkpoint).toBe('2026-11-02T00:00:00Z');
      // Adaptive widths keep the query count near 1,000 / 65 (measured: 30 scrambled, 37 newest-first), not one per few incidents.
      expect(queries.length).toBeLessThan(40);
      expect(queries.every((q) => !q.includes('$skip'))).toBe(true);
    },
  );

  it('pages one millisecond holding more than 100 incidents with $skip', async () => {
    const incidents = Array.from({ length: 250 }, (_, i) =>
      incident(i + 1, `2026-11-01T10:00:00.123${String(i).padStart(4, '0')}Z`),
    );
    const { http } = fakeLegacyApi(incidents);
    const source = new M365dIncidentSource({ endpoint: 'https://legacy.example', tokenProvider, http });
    const pages = await collect(source.pages('t', window));
    expect(new Set(pages.flatMap((p) => p.incidents.map((i) => i.incidentId))).size).toBe(250);
    expect(pages.at(-1)?.checkpoint).toBe('2026-11-01T10:00:00.1230249Z');
  });
});
