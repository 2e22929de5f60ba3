/**
 * The change feed through collectTenant (design §9) on the fakes: every new version written by a collection gets
 * exactly one event — a first collection, an overlap re-read, a failed run and its rerun, a changed incident and
 * two versions of one incident in one page — with sequences strictly increasing per tenant across runs.
 */
import { describe, expect, it } from '@jest/globals';
import type { FetchedIncident, IncidentPage } from '../../../shared/ports.js';
import { collectTenant, EVENT_HINT_EVERY_MS, type CollectRequest } from '../../../shared/usecases/collectTenant.js';
import { fakeWorld } from '../../fakes/index.js';

const T = '0a1b2c3d-0000-4000-8000-0000000000e1';

function incident(id: string, at: string, status = 'active'): FetchedIncident {
  return { incidentId: id, lastUpdateTime: at, incident: { id, lastUpdateDateTime: at, status, severity: 'low' } };
}

/** What tenant T's source answers next: its pages, and the page (1-based) that fails with a connection reset. */
interface Script {
  pages: IncidentPage[];
  failAtPage?: number | undefined;
}

/** A world with tenant T registered, its source answering `script`; `collect()` runs an hour after the last. */
function scriptedTenant(script: Script) {
  const w = fakeWorld({
    source: {
      scripts: {
        [T]: {
          pages: () => script.pages,
          get failAt() {
            const page = script.failAtPage;
            return page === undefined ? undefined : { page, error: new Error('connection reset') };
          },
        },
      },
    },
  });
  w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consentedAt: '2026-01-01T00:00:00.000Z' });
  let run = 0;
  const collect = () => {
    w.clock.advance(3_600_000);
    const runId = `run-${++run}`;
    const request: CollectRequest = { tenantId: T, runId, owner: `run:${runId}/worker-1` };
    return collectTenant(w, request);
  };
  return { w, collect };
}

describe('collectTenant records one event per new version', () => {
  const script: Script = { pages: [] };
  const { w, collect } = scriptedTenant(script);
  const versions = async () =>
    (await w.snapshots.events.read(T, -1, 1000)).map(
      (e) => `${e.incidentId}@${e.lastUpdateTime.slice(11, 16)} ${e.type}`,
    );

  it('a first collection: one incident.created per incident', async () => {
    script.pages = [
      { incidents: [incident('1', '2026-11-24T10:00:00Z'), incident('2', '2026-11-24T10:30:00Z')] },
      { incidents: [incident('3', '2026-11-24T11:00:00Z')], checkpoint: '2026-11-24T11:00:00Z' },
    ];
    expect((await collect()).incidentsChanged).toBe(3);
    expect(await versions()).toEqual([
      '1@10:00 incident.created',
      '2@10:30 incident.created',
      '3@11:00 incident.created',
    ]);
  });

  it('re-reading the same versions (overlap, rerun) adds no event', async () => {
    expect((await collect()).incidentsChanged).toBe(0);
    expect(await versions()).toHaveLength(3);
  });

  it('a run failing after its first page, then a rerun: each new version once', async () => {
    script.pages = [
      { incidents: [incident('1', '2026-11-24T12:00:00Z', 'resolved'), incident('4', '2026-11-24T12:00:00Z')] },
      { incidents: [incident('5', '2026-11-24T12:30:00Z')], checkpoint: '2026-11-24T12:30:00Z' },
    ];
    script.failAtPage = 2;
    expect((await collect()).status).toBe('failed');
    script.failAtPage = undefined;
    expect((await collect()).incidentsChanged).toBe(1);
    expect((await versions()).slice(3)).toEqual([
      '1@12:00 incident.updated',
      '4@12:00 incident.created',
      '5@12:30 incident.created',
    ]);
    const updated = (await w.snapshots.events.read(T, -1, 1000))[3]!;
    const event = await w.snapshots.events.cloudEvent(updated);
    expect(event.data).toMatchObject({ changedFields: ['status'], previous: { status: 'active' } });
  });

  it('two versions of one incident in a page: both recorded, in version order; sequences only grow', async () => {
    script.pages = [
      {
        incidents: [incident('6', '2026-11-24T13:30:00Z', 'resolved'), incident('6', '2026-11-24T13:00:00Z')],
        checkpoint: '2026-11-24T13:30:00Z',
      },
    ];
    expect((await collect()).incidentsChanged).toBe(2);
    expect((await versions()).slice(6)).toEqual(['6@13:00 incident.created', '6@13:30 incident.updated']);
    const sequences = (await w.snapshots.events.read(T, -1, 1000)).map((e) => e.sequence);
    for (let i = 1; i < sequences.length; i++) expect(sequences[i]).toBeGreaterThan(sequences[i - 1]!);
    const history = [];
    for await (const s of w.snapshots.history({ tenantId: T })) history.push(s);
    expect(history).toHaveLength(sequences.length);
  });
});

describe('collectTenant records the delivery hint (Tenants.eventSequence) in its final tenant write', () => {
  const script: Script = { pages: [] };
  const { w, collect } = scriptedTenant(script);
  const last = async () => (await w.snapshots.events.read(T, -1, 1000)).at(-1)?.sequence;
  const hint = async () => (await w.tenants.get(T))?.eventSequence;

  it('no hint before the first event; after a collection, the highest sequence it wrote (of every page)', async () => {
    script.pages = [{ incidents: [] }];
    expect((await collect()).status).toBe('ok');
    expect(await hint()).toBeUndefined();
    script.pages = [
      { incidents: [incident('1', '2026-11-24T10:00:00Z'), incident('2', '2026-11-24T10:30:00Z')] },
      { incidents: [incident('3', '2026-11-24T11:00:00Z')], checkpoint: '2026-11-24T11:00:00Z' },
    ];
    const writesBefore = w.journal.entries.filter((e) => e.startsWith(`tenant ${T}`)).length;
    expect((await collect()).incidentsChanged).toBe(3);
    expect(await hint()).toBe(await last());
    // No extra tenant write: the hint rides on the one that records the outcome.
    expect(w.journal.entries.filter((e) => e.startsWith(`tenant ${T}`)).length - writesBefore).toBe(1);
  });

  it('a collection with nothing new leaves the hint as it was', async () => {
    const before = await hint();
    expect((await collect()).incidentsChanged).toBe(0);
    expect(await hint()).toBe(before);
  });

  it('a run failing after a written page records the hint of that page with the failure', async () => {
    const before = await hint();
    script.pages = [
      { incidents: [incident('4', '2026-11-24T12:00:00Z')] },
      { incidents: [incident('5', '2026-11-24T12:30:00Z')], checkpoint: '2026-11-24T12:30:00Z' },
    ];
    script.failAtPage = 2;
    expect((await collect()).status).toBe('failed');
    expect(await hint()).toBe(await last());
    expect(await hint()).toBeGreaterThan(before!);
    script.failAtPage = undefined;
  });
});

describe('a long collection raises the delivery hint as it goes (EVENT_HINT_EVERY_MS), not only at its end', () => {
  it('after a minute, the next page stores the highest durable sequence; the end stores the last one', async () => {
    // Prepare: four pages with no checkpoint between them (one unordered slice); each write takes half a minute.
    const pages: IncidentPage[] = [1, 2, 3, 4].map((n) => ({
      incidents: [incident(String(n), `2026-11-24T1${n}:00:00Z`)],
    }));
    const w = fakeWorld({ source: { scripts: { [T]: { pages: () => pages } } } });
    w.tenants.seed({ tenantId: T, displayName: 'Contoso', status: 'active', consentedAt: '2026-01-01T00:00:00.000Z' });
    const hintAtWrite: (number | undefined)[] = [];
    w.snapshots.onWrite = async () => {
      hintAtWrite.push((await w.tenants.get(T))?.eventSequence);
      w.clock.advance(EVENT_HINT_EVERY_MS / 2);
    };

    // Act
    const result = await collectTenant(w, { tenantId: T, runId: 'run-1', owner: 'run:run-1/worker-1' });

    // Assess: no hint for the first minute; when page 3 comes a minute has passed, and the hint then is the
    // sequence of the events written so far (pages 1–2); the final write stores page 4's.
    expect(result.incidentsChanged).toBe(4);
    const sequences = (await w.snapshots.events.read(T, -1, 100)).map((e) => e.sequence);
    expect(sequences).toHaveLength(4);
    expect(hintAtWrite).toEqual([undefined, undefined, sequences[1], sequences[1]]);
    expect((await w.tenants.get(T))?.eventSequence).toBe(sequences[3]);
  });
});
