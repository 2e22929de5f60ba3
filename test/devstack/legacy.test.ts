import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startLocalStack, type LocalStack } from '../../devstack/stack.js';
import { bearer, request, tokenFor, type RawAnswer } from './simClient.js';
import { toFixedWidth } from '../../shared/domain/time.js';

const TENANT = 'dddddddd-0000-4000-8000-000000000004';
const QUOTA = 'eeeeeeee-0000-4000-8000-000000000005';

type Page = { value: Record<string, unknown>[]; '@odata.context'?: string; '@odata.nextLink'?: string };

describe('LegacySim', () => {
  let stack: LocalStack;
  let token: string;

  beforeAll(async () => {
    stack = await startLocalStack({
      azurite: false,
      timeScale: 0.1, // 10-minute quota windows: the quota test cannot straddle a window
      tenants: [
        { tenantId: TENANT, incidents: 230, alertsPerIncident: 1 },
        { tenantId: QUOTA, incidents: 2 },
      ],
    });
    token = await tokenFor(stack, TENANT, stack.legacy.url);
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const get = (pathAndQuery: string, t = token): Promise<RawAnswer> =>
    request(stack, `${stack.legacy.url}${pathAndQuery}`, { headers: bearer(t) });

  it('pages with $top/$skip, newest first, no nextLink, equal to world.legacyIncidents', async () => {
    const items: Record<string, unknown>[] = [];
    for (let skip = 0; ; skip += 100) {
      const page = (await get(`/api/incidents?$top=100&$skip=${skip}`)).json<Page>();
      expect(page['@odata.context']).toContain('$metadata#Incidents');
      expect(page['@odata.nextLink']).toBeUndefined();
      items.push(...page.value);
      if (page.value.length < 100) break;
    }
    expect(items).toHaveLength(230);
    expect(items).toEqual(stack.world.legacyIncidents(TENANT));
    const times = items.map((i) => toFixedWidth(String(i.lastUpdateTime)));
    expect(times).toEqual([...times].sort().reverse());
    expect(typeof items[0]?.incidentId).toBe('number');
    expect(['Active', 'InProgress', 'Resolved', 'Redirected']).toContain(items[0]?.status);
    // Precision varies like the real API (trailing zeros trimmed), e.g. `…57.29Z` next to 7 digits.
    const precisions = new Set(items.map((i) => (/\.(\d+)Z$/.exec(String(i.lastUpdateTime))?.[1] ?? '').length));
    expect(precisions.size).toBeGreaterThan(2);
  });

  it('filters on lastUpdateTime and createdTime, comparing at 100 ns whatever the literal precision', async () => {
    const all = stack.world.legacyIncidents(TENANT);
    const pivot = String(all[150]?.lastUpdateTime);
    const page = (
      await get(
        `/api/incidents?$filter=lastUpdateTime ge ${pivot} and lastUpdateTime lt ${toFixedWidth(String(all[100]?.lastUpdateTime))}`,
      )
    ).json<Page>();
    const expected = all.filter((i) => {
      const t = toFixedWidth(String(i.lastUpdateTime));
      return t >= toFixedWidth(pivot) && t < toFixedWidth(String(all[100]?.lastUpdateTime));
    });
    expect(page.value).toEqual(expected);
    const created = String(all[5]?.createdTime);
    const byCreated = (await get(`/api/incidents?$filter=createdTime gt '${created}'`)).json<Page>();
    expect(byCreated.value.every((i) => toFixedWidth(String(i.createdTime)) > toFixedWidth(created))).toBe(true);
  });

  it('answers 400 to $top=101 and to unsupported filters', async () => {
    const tooMany = await get('/api/incidents?$top=101');
    expect(tooMany.status).toBe(400);
    expect(tooMany.json()).toMatchObject({
      error: { code: expect.any(String), message: expect.any(String), target: expect.any(String) },
    });
    expect((await get("/api/incidents?$filter=status eq 'Active'")).status).toBe(400);
  });

  it('answers 403 Forbidden in the legacy shape without Incident.Read.All', async () => {
    stack.entra.setTenantRoles(QUOTA, ['SecurityIncident.Read.All']);
    const t = await tokenFor(stack, QUOTA, stack.legacy.url);
    const answer = await get('/api/incidents', t);
    expect(answer.status).toBe(403);
    expect(answer.json()).toMatchObject({
      error: { code: 'Forbidden', message: expect.any(String), target: expect.any(String) },
    });
    stack.entra.setTenantRoles(QUOTA, ['Incident.Read.All']);
  });

  it('gives 429 at call 51 within a window, with the body naming the wait and no Retry-After', async () => {
    const t = await tokenFor(stack, QUOTA, stack.legacy.url);
    const statuses: number[] = [];
    let last: RawAnswer | undefined;
    for (let i = 0; i < 51; i++) {
      last = await get('/api/incidents?$top=1', t);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 50).every((s) => s === 200)).toBe(true);
    expect(statuses[50]).toBe(429);
    expect(last?.headers['retry-after']).toBeUndefined();
    expect(last?.json()).toMatchObject({
      error: {
        code: 'TooManyRequests',
        message: expect.stringMatching(/^Rate limit is exceeded\. Try again in \d+ seconds\.$/),
      },
    });
  });
});
