import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { bearer, request, tokenFor, type RawAnswer } from './simClient.js';

const BIG = 'aaaaaaaa-0000-4000-8000-000000000001';
const SMALL = 'bbbbbbbb-0000-4000-8000-000000000002';
const THROTTLED = 'cccccccc-0000-4000-8000-000000000003';

type Page = {
  value: Record<string, unknown>[];
  '@odata.nextLink'?: string;
  '@odata.context'?: string;
  '@odata.count'?: number;
};

describe('GraphSim', () => {
  let stack: LocalStack;
  let token: string;

  beforeAll(async () => {
    stack = await startLocalStack({
      azurite: false,
      timeScale: 0.1, // 10-minute quota windows: the quota test cannot straddle a window
      graphQuotaPerMinute: 100,
      tenants: [
        { tenantId: BIG, incidents: 137, alertsPerIncident: 2 },
        { tenantId: SMALL, incidents: 3 },
        { tenantId: THROTTLED, incidents: 1 },
      ],
    });
    token = await tokenFor(stack, BIG, stack.graph.url);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const get = (pathAndQuery: string, t = token): Promise<RawAnswer> =>
    request(stack, `${stack.graph.url}${pathAndQuery}`, { headers: bearer(t) });

  async function followAll(first: string): Promise<{ items: Record<string, unknown>[]; pages: number }> {
    const items: Record<string, unknown>[] = [];
    let url: string | undefined = `${stack.graph.url}${first}`;
    let pages = 0;
    while (url) {
      const answer = await request(stack, url, { headers: bearer(token) });
      expect(answer.status).toBe(200);
      const page = answer.json<Page>();
      expect(page['@odata.context']).toBeDefined();
      items.push(...page.value);
      url = page['@odata.nextLink'];
      pages += 1;
    }
    return { items, pages };
  }

  it('pages through nextLink: every incident exactly once, equal to world.graphIncidents', async () => {
    const { items, pages } = await followAll('/v1.0/security/incidents?$expand=alerts');
    expect(pages).toBe(3);
    const ids = items.map((i) => i.id);
    expect(new Set(ids).size).toBe(137);
    expect(items).toEqual(stack.world.graphIncidents(BIG));
    const first = items[0] as Record<string, unknown>;
    expect(first['@odata.type']).toBe('#microsoft.graph.security.incident');
    expect(first.lastUpdateDateTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
    expect(first.tenantId).toBe(BIG);
    expect((first.alerts as unknown[]).length).toBe(2);
  });

  it('filters on lastUpdateDateTime at 100 ns and orders ascending', async () => {
    const all = stack.world
      .graphIncidents(BIG)
      .map((i) => String(i.lastUpdateDateTime))
      .sort();
    const pivot = all[60] as string;
    const ge = await followAll(
      `/v1.0/security/incidents?$filter=lastUpdateDateTime ge ${pivot}&$orderby=lastUpdateDateTime asc`,
    );
    const times = ge.items.map((i) => String(i.lastUpdateDateTime));
    expect(times).toEqual([...times].sort());
    expect(times).toEqual(all.filter((t) => t >= pivot));
    // One tick later excludes the pivot itself (quoted literal accepted too).
    const next = `${pivot.slice(0, 26)}${Number(pivot[26]) + 1 > 9 ? 9 : Number(pivot[26]) + 1}Z`;
    const gt = await followAll(
      `/v1.0/security/incidents?$filter=lastUpdateDateTime ge '${next}' and lastUpdateDateTime le ${all[70]}`,
    );
    expect(gt.items.map((i) => String(i.lastUpdateDateTime)).sort()).toEqual(
      all.filter((t) => t >= next && t <= (all[70] as string)),
    );
  });

  it('counts and expands on request', async () => {
    const answer = await get('/v1.0/security/incidents?$count=true&$top=5');
    const page = answer.json<Page>();
    expect(page['@odata.count']).toBe(137);
    expect(page.value).toHaveLength(5);
    expect(page.value[0]?.alerts).toBeUndefined();
  });

  it.each([
    ['$top=51', "The limit of '50' for Top query has been exceeded"],
    ['$skip=550', "The limit of '500' for Skip query"],
    ["$filter=status eq 'active'", 'Invalid filter clause'],
    ['$filter=lastUpdateDateTime ge yesterday', 'Invalid filter clause'],
    ['$orderby=severity', 'Invalid $orderby'],
  ])('answers 400 to %s', async (query, message) => {
    const answer = await get(`/v1.0/security/incidents?${query}`);
    expect(answer.status).toBe(400);
    expect(answer.json<{ error: { code: string; message: string } }>().error.message).toContain(message);
  });

  it('serves one incident and the alerts_v2 fallback with the same alert objects', async () => {
    const truth = stack.world.graphIncidents(BIG)[10] as Record<string, unknown>;
    const one = (await get(`/v1.0/security/incidents/${truth.id}?$expand=alerts`)).json<Record<string, unknown>>();
    expect({ ...one, '@odata.context': undefined }).toEqual({ ...truth, '@odata.context': undefined });
    const alerts: unknown[] = [];
    let url: string | undefined =
      `${stack.graph.url}/v1.0/security/alerts_v2?$filter=incidentId eq '${truth.id}'&$top=1`;
    while (url) {
      const page: Page = (await request(stack, url, { headers: bearer(token) })).json<Page>();
      alerts.push(...page.value);
      url = page['@odata.nextLink'];
    }
    expect(alerts).toEqual(truth.alerts);
  });

  it('fails $expand=alerts persistently above the threshold, not without expand', async () => {
    stack.graph.failExpandAbove(100);
    try {
      expect((await get('/v1.0/security/incidents?$expand=alerts&$top=1')).status).toBe(500);
      expect((await get('/v1.0/security/incidents?$expand=alerts&$top=1')).status).toBe(500);
      expect((await get('/v1.0/security/incidents?$top=1')).status).toBe(200);
      const small = await tokenFor(stack, SMALL, stack.graph.url);
      expect((await get('/v1.0/security/incidents?$expand=alerts', small)).json<Page>().value).toHaveLength(3);
    } finally {
      stack.graph.failExpandAbove(null);
    }
  });

  it('answers 401 without a token or with another audience, 403 without the role, and uses the token tid', async () => {
    expect((await request(stack, `${stack.graph.url}/v1.0/security/incidents`)).status).toBe(401);
    const legacyToken = await tokenFor(stack, BIG, stack.legacy.url);
    expect((await get('/v1.0/security/incidents', legacyToken)).status).toBe(401);
    stack.entra.setTenantRoles(SMALL, ['User.Read.All']);
    const noRole = await tokenFor(stack, SMALL, stack.graph.url);
    const forbidden = await get('/v1.0/security/incidents', noRole);
    expect(forbidden.status).toBe(403);
    expect(forbidden.json<{ error: { code: string } }>().error.code).toBe('Forbidden');
    stack.entra.setTenantRoles(SMALL, ['SecurityIncident.ReadWrite.All']);
    const small = await tokenFor(stack, SMALL, stack.graph.url);
    const mine = (await get('/v1.0/security/incidents', small)).json<Page>().value;
    expect(mine.map((i) => i.tenantId)).toEqual([SMALL, SMALL, SMALL]);
  });

  it('throttles per tenant with 429, Retry-After and the Graph error body', async () => {
    const t = await tokenFor(stack, THROTTLED, stack.graph.url);
    const statuses: number[] = [];
    let last: RawAnswer | undefined;
    for (let i = 0; i < 101; i++) {
      last = await get('/v1.0/security/incidents?$top=1', t);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
    expect(statuses[100]).toBe(429);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.json()).toMatchObject({
      error: { code: 'TooManyRequests', innerError: { date: expect.any(String), 'request-id': expect.any(String) } },
    });
    // Another tenant is unaffected.
    expect((await get('/v1.0/security/incidents?$top=1')).status).toBe(200);
  });

  it('breaks the response mid-body when told to, and serves malformed JSON when told to', async () => {
    stack.graph.inject({ match: (r) => r.kind === 'incidents', reset: 'midBody' });
    await expect(get('/v1.0/security/incidents?$top=5')).rejects.toThrow();
    stack.graph.inject({ match: (r) => r.tenantId === BIG, malformed: true });
    const broken = await get('/v1.0/security/incidents?$top=5');
    expect(broken.status).toBe(200);
    expect(() => broken.json()).toThrow(SyntaxError);
    stack.graph.inject({
      status: 503,
      body: { error: { code: 'ServiceUnavailable', message: 'down' } },
      headers: { 'retry-after': '2' },
      times: 2,
    });
    expect((await get('/v1.0/security/incidents?$top=1')).status).toBe(503);
    expect((await get('/v1.0/security/incidents?$top=1')).status).toBe(503);
    expect((await get('/v1.0/security/incidents?$top=1')).status).toBe(200);
    const logged = stack.graph.requests.filter((r) => r.tenantId === BIG).map((r) => r.status);
    expect(logged.slice(-3)).toEqual([503, 503, 200]);
  });

  it('lets onRequest change the world between pages (mutation shows up with a new lastUpdate)', async () => {
    const victim = String(stack.world.graphIncidents(SMALL)[0]?.id);
    const small = await tokenFor(stack, SMALL, stack.graph.url);
    stack.graph.onRequest = (req) => {
      if (req.tenantId === SMALL) stack.world.mutate(SMALL, victim);
    };
    try {
      const before = stack.world.graphIncidents(SMALL).find((i) => i.id === victim)?.lastUpdateDateTime as string;
      const after = (await get(`/v1.0/security/incidents/${victim}`, small)).json<Record<string, unknown>>();
      expect(String(after.lastUpdateDateTime) > before).toBe(true);
      expect(after.lastUpdateDateTime).toMatch(/\.\d{7}Z$/);
    } finally {
      delete stack.graph.onRequest;
    }
  });
});
