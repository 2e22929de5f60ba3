/**
 * The read API (design §10) through the real handlers over Azurite: paging latest versions with opaque
 * continuation tokens (none on the last page), the filters (case-insensitive status/severity across both sources,
 * inclusive since), 400 naming each bad parameter, one incident's latest version or all its versions, 404 unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { HttpResponseInit } from '@azure/functions';
import { incidentGet } from '../../../functions/http/incidentGet.js';
import { incidentsList } from '../../../functions/http/incidentsList.js';
import type { FetchedIncident } from '../../../shared/ports.js';
import { startHarness, type Harness } from '../functionsHarness.js';

const A = 'ad000000-0000-4000-8000-0000000000a1';
const B = 'ad000000-0000-4000-8000-0000000000b1';

function graph(id: string, at: string, status: string, severity: string): FetchedIncident {
  return {
    incidentId: id,
    lastUpdateTime: at,
    incident: { id, lastUpdateDateTime: at, status, severity, displayName: `Graph ${id}`, alerts: [] },
  };
}

function legacy(id: number, at: string, status: string, severity: string): FetchedIncident {
  return {
    incidentId: String(id),
    lastUpdateTime: at,
    incident: { incidentId: id, lastUpdateTime: at, status, severity, incidentName: `Legacy ${id}`, alerts: [] },
  };
}

type Handler = (req: ReturnType<Harness['request']>, ctx: ReturnType<Harness['context']>) => Promise<HttpResponseInit>;

describe('read API through the function handlers', () => {
  let h: Harness;

  const call = async (handler: Handler, init: Parameters<Harness['request']>[0]) => {
    const response = await handler(h.request(init), h.context('read'));
    return { status: response.status, body: response.jsonBody as Record<string, unknown> };
  };
  const list = (query: Record<string, string>) => call(incidentsList, { path: '/api/incidents', query });

  beforeAll(async () => {
    h = await startHarness({ tenants: [{ tenantId: A, displayName: 'Alpha', incidents: 0 }] });
    const s = h.services.snapshots;
    await s.writePage(A, 'graph', [
      graph('1', '2026-11-20T10:00:00.1234567Z', 'active', 'medium'),
      graph('2', '2026-11-20T10:01:00Z', 'active', 'high'),
      graph('3', '2026-11-20T10:02:00Z', 'inProgress', 'low'),
      graph('4', '2026-11-20T10:03:00Z', 'resolved', 'high'),
      graph('5', '2026-11-20T10:04:00Z', 'active', 'informational'),
      graph('6', '2026-11-20T10:05:00Z', 'resolved', 'medium'),
      graph('7', '2026-11-20T10:06:00Z', 'active', 'low'),
    ]);
    await s.writePage(A, 'graph', [graph('1', '2026-11-20T11:00:00Z', 'inProgress', 'high')]);
    await s.writePage(A, 'graph', [graph('1', '2026-11-20T12:00:00Z', 'resolved', 'high')]);
    await s.writePage(B, 'm365d', [
      legacy(552, '2026-11-20T09:00:00.12Z', 'Active', 'High'),
      legacy(553, '2026-11-20T13:00:00Z', 'InProgress', 'Informational'),
    ]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('pages a tenant’s latest versions with an opaque token; the last page has none', async () => {
    const seen: Record<string, unknown>[] = [];
    const tokens: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 5; i++) {
      const page = await list({ tenant: A.toUpperCase(), top: '3', ...(token ? { continuationToken: token } : {}) });
      expect(page.status).toBe(200);
      const value = page.body.value as Record<string, unknown>[];
      expect(value.length).toBeLessThanOrEqual(3);
      seen.push(...value);
      token = page.body.continuationToken as string | undefined;
      if (token === undefined) break;
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      tokens.push(token);
    }
    expect(token).toBeUndefined();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(seen.map((r) => r.incidentId)).toEqual(['1', '2', '3', '4', '5', '6', '7']);
    expect(seen[0]).toEqual({
      tenantId: A,
      incidentId: '1',
      lastUpdateTime: '2026-11-20T12:00:00Z',
      source: 'graph',
      snapshotAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      status: 'resolved',
      severity: 'high',
      title: 'Graph 1',
    });
  });

  it('filters: status and severity case-insensitive on both sources, since inclusive, default top 100', async () => {
    const ids = async (query: Record<string, string>) => {
      const page = await list(query);
      expect(page.status).toBe(200);
      expect(page.body.continuationToken).toBeUndefined();
      return (page.body.value as { tenantId: string; incidentId: string }[]).map((r) => r.incidentId).sort();
    };
    expect(await ids({ status: 'ACTIVE' })).toEqual(['2', '5', '552', '7']);
    expect(await ids({ status: 'inprogress' })).toEqual(['3', '553']);
    expect(await ids({ severity: 'High', tenant: A })).toEqual(['1', '2', '4']);
    expect(await ids({ severity: 'informational' })).toEqual(['5', '553']);
    expect(await ids({ since: '2026-11-20T10:05:00Z', tenant: A })).toEqual(['1', '6', '7']);
    expect(await ids({ since: '2026-11-20T12:00:00.0000001Z' })).toEqual(['553']);
    expect(await ids({ since: '2026-11-20T09:00:00.12Z', status: 'active', tenant: B })).toEqual(['552']);
    expect(await ids({})).toHaveLength(9);
  });

  it.each([
    [{ top: '0' }, 'INVALID_TOP'],
    [{ top: '501' }, 'INVALID_TOP'],
    [{ top: 'ten' }, 'INVALID_TOP'],
    [{ since: 'yesterday' }, 'INVALID_SINCE'],
    [{ tenant: 'contoso' }, 'INVALID_TENANT'],
    [{ status: '' }, 'INVALID_STATUS'],
    [{ severity: 'x'.repeat(65) }, 'INVALID_SEVERITY'],
    [{ continuationToken: 'not a token!' }, 'INVALID_CONTINUATION_TOKEN'],
    [{ continuationToken: 'bm90LWEtdGFibGUtdG9rZW4' }, 'INVALID_CONTINUATION_TOKEN'],
  ])('a bad parameter %j answers 400 %s naming it', async (query, code) => {
    const page = await list(query);
    expect(page.status).toBe(400);
    expect(page.body).toEqual({ error: { code, message: expect.any(String) } });
    const field = Object.keys(query)[0] as string;
    expect((page.body.error as { message: string }).message).toContain(field);
  });

  it('one incident: the latest version, every version oldest first, 404 unknown, 400 bad input', async () => {
    const get = (tenantId: string, incidentId: string, query?: Record<string, string>) =>
      call(incidentGet, {
        path: `/api/tenants/${tenantId}/incidents/${incidentId}`,
        params: { tenantId, incidentId },
        ...(query ? { query } : {}),
      });
    const latest = await get(A, '1');
    expect(latest.status).toBe(200);
    expect(latest.body).toMatchObject({
      tenantId: A,
      incidentId: '1',
      lastUpdateTime: '2026-11-20T12:00:00Z',
      source: 'graph',
    });
    expect(latest.body.incident).toEqual(graph('1', '2026-11-20T12:00:00Z', 'resolved', 'high').incident);
    expect(Object.keys(latest.body).sort()).toEqual([
      'incident',
      'incidentId',
      'lastUpdateTime',
      'snapshotAt',
      'source',
      'tenantId',
    ]);

    const all = await get(A.toUpperCase(), '1', { history: 'true' });
    expect(all.status).toBe(200);
    expect(all.body.tenantId).toBe(A);
    const versions = all.body.versions as { lastUpdateTime: string; incident: { status: string } }[];
    expect(versions.map((v) => [v.lastUpdateTime, v.incident.status])).toEqual([
      ['2026-11-20T10:00:00.1234567Z', 'active'],
      ['2026-11-20T11:00:00Z', 'inProgress'],
      ['2026-11-20T12:00:00Z', 'resolved'],
    ]);

    const oneVersion = await get(B, '552', { history: 'true' });
    expect((oneVersion.body.versions as unknown[]).length).toBe(1);

    expect(await get(A, '999')).toMatchObject({ status: 404, body: { error: { code: 'INCIDENT_NOT_FOUND' } } });
    expect(await get(A, '999', { history: 'true' })).toMatchObject({
      status: 404,
      body: { error: { code: 'INCIDENT_NOT_FOUND' } },
    });
    expect(await get('nope', '1')).toMatchObject({ status: 400, body: { error: { code: 'INVALID_TENANT_ID' } } });
    expect(await get(A, '1', { history: 'maybe' })).toMatchObject({
      status: 400,
      body: { error: { code: 'INVALID_HISTORY' } },
    });
  });
});

describe('read API: any stored casing, and no token on an exactly full last page', () => {
  let h: Harness;
  const C = 'ad000000-0000-4000-8000-0000000000c1';
  const list = async (query: Record<string, string>) => {
    const response = await incidentsList(h.request({ path: '/api/incidents', query }), h.context('read'));
    return response.jsonBody as { value: { incidentId: string; status: string }[]; continuationToken?: string };
  };
  /** Every page of a query, following its tokens (at most 20 pages). */
  const pages = async (query: Record<string, string>) => {
    const out: { ids: string[]; token: boolean }[] = [];
    let token: string | undefined;
    do {
      const page = await list({ ...query, ...(token ? { continuationToken: token } : {}) });
      token = page.continuationToken;
      out.push({ ids: page.value.map((r) => r.incidentId), token: token !== undefined });
    } while (token !== undefined && out.length < 20);
    return out;
  };

  beforeAll(async () => {
    h = await startHarness({ tenants: [{ tenantId: C, displayName: 'Casings', incidents: 0 }] });
    // Casings neither API documents, and values the status prefilter lets through but which do not match.
    await h.services.snapshots.writePage(C, 'graph', [
      graph('10', '2026-11-21T10:00:00Z', 'ReSoLvEd', 'hIgH'),
      graph('11', '2026-11-21T10:01:00Z', 'redirected', 'HIGH'),
      graph('12', '2026-11-21T10:02:00Z', 'rESOLVED', 'LoW'),
      graph('13', '2026-11-21T10:03:00Z', 'Redirected', 'high'),
      graph('14', '2026-11-21T10:04:00Z', 'resolved', 'medium'),
      graph('15', '2026-11-21T10:05:00Z', 'RESOLVED', 'hiGH'),
      graph('16', '2026-11-21T10:06:00Z', 'Resolvedx', 'High'),
      graph('17', '2026-11-21T10:07:00Z', 'Redirected', 'low'),
    ]);
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('matches status and severity case-insensitively whatever casing was stored', async () => {
    expect(await pages({ tenant: C, status: 'resolved' })).toEqual([{ ids: ['10', '12', '14', '15'], token: false }]);
    expect(await pages({ tenant: C, status: 'REDIRECTED' })).toEqual([{ ids: ['11', '13', '17'], token: false }]);
    expect(await pages({ severity: 'High' })).toEqual([{ ids: ['10', '11', '13', '15', '16'], token: false }]);
    expect(await pages({ tenant: C, status: 'Resolved', severity: 'HIGH' })).toEqual([
      { ids: ['10', '15'], token: false },
    ]);
    expect(await pages({ severity: 'low' })).toEqual([{ ids: ['12', '17'], token: false }]);
  });

  it('an exactly full last page has no continuationToken (filtered or not); earlier pages are full', async () => {
    expect(await pages({ tenant: C, status: 'RESOLVED', top: '2' })).toEqual([
      { ids: ['10', '12'], token: true },
      { ids: ['14', '15'], token: false },
    ]);
    expect(await pages({ tenant: C, top: '8' })).toEqual([
      { ids: ['10', '11', '12', '13', '14', '15', '16', '17'], token: false },
    ]);
    // The last matching row is followed by a row that passes the service's prefilter but not the in-memory check
    // (17 `Redirected`): the look-ahead finds no match, so no token after it.
    expect(await pages({ tenant: C, status: 'resolved', top: '4' })).toEqual([
      { ids: ['10', '12', '14', '15'], token: false },
    ]);
    expect(await pages({ tenant: C, severity: 'high', top: '1' })).toEqual(
      ['10', '11', '13', '15', '16'].map((id, i) => ({ ids: [id], token: i < 4 })),
    );
  });
});
