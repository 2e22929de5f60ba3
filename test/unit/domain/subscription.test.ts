/** Subscription input rules (design §9): URLs, secrets, severities, types, tenants; every error names its field. */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../shared/domain/errors.js';
import {
  BODY_FIELDS,
  matchesFilters,
  newSubscription,
  parseWebhookSecret,
  type SubscriptionInput,
} from '../../../shared/domain/subscription.js';
import type { EventEntry } from '../../../shared/ports.js';

const NOW = new Date('2026-11-24T12:00:00.000Z');
const fresh = {
  uuid: '6F9619FF-8B86-4011-B42D-00C04FC964FF',
  secret: () => `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
};
const T = '0a1b2c3d-0000-4000-8000-000000000001';

function fieldOf(input: SubscriptionInput, names = undefined as typeof BODY_FIELDS | undefined): string {
  try {
    newSubscription(input, NOW, fresh, names);
  } catch (error) {
    if (error instanceof InputError) return error.field;
    throw error;
  }
  return 'accepted';
}

describe('newSubscription', () => {
  it('a webhook gets a lower-case id, the URL, a generated secret and createdAt', () => {
    const made = newSubscription({ url: 'https://hooks.example/in', tenants: [T.toUpperCase()] }, NOW, fresh);
    expect(made.record).toEqual({
      id: 'sub-6f9619ff-8b86-4011-b42d-00c04fc964ff',
      kind: 'webhook',
      url: 'https://hooks.example/in',
      filters: { tenants: [T] },
      status: 'active',
      createdAt: NOW.toISOString(),
    });
    expect(made.generated).toBe(true);
    expect(made.secret).toBe(fresh.secret());
  });

  it('https only; http only for loopback; no credentials in the URL', () => {
    expect(fieldOf({ url: 'http://hooks.example/in' })).toBe('--url');
    expect(fieldOf({ url: 'ftp://hooks.example/in' })).toBe('--url');
    expect(fieldOf({ url: 'not a url' })).toBe('--url');
    expect(fieldOf({ url: 'https://user:pw@hooks.example/in' })).toBe('--url');
    expect(fieldOf({ url: 'http://127.0.0.1:8080/in' })).toBe('accepted');
    expect(fieldOf({ url: 'http://localhost/in' })).toBe('accepted');
    expect(fieldOf({ url: 'http://[::1]:9/in' })).toBe('accepted');
    expect(fieldOf({})).toBe('--url');
    expect(fieldOf({}, BODY_FIELDS)).toBe('url');
  });

  it('a given secret must be whsec_ + base64 of 24–64 bytes, and the error never echoes it', () => {
    const ok = `whsec_${Buffer.alloc(24, 1).toString('base64')}`;
    const made = newSubscription({ url: 'https://h.example/', secret: ok }, NOW, fresh);
    expect(made).toMatchObject({ secret: ok, generated: false });
    for (const bad of [
      'whsec_short',
      `whsec_${Buffer.alloc(16).toString('base64')}`,
      'sk_abcdefabcdefabcdefabcdefabcdef',
      `whsec_${'!'.repeat(40)}`,
    ]) {
      let error: unknown;
      try {
        parseWebhookSecret(bad, '--secret');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InputError);
      expect((error as InputError).field).toBe('--secret');
      expect((error as Error).message).not.toContain(bad);
    }
  });

  it('severity levels (case-insensitive), event types and tenant IDs are checked', () => {
    expect(newSubscription({ url: 'https://h.example/', minSeverity: 'HIGH' }, NOW, fresh).record.filters).toEqual({
      minSeverity: 'high',
    });
    expect(fieldOf({ url: 'https://h.example/', minSeverity: 'critical' })).toBe('--min-severity');
    expect(fieldOf({ url: 'https://h.example/', types: ['incident.deleted'] })).toBe('--type');
    expect(fieldOf({ url: 'https://h.example/', tenants: ['contoso.com'] })).toBe('--tenant');
    expect(fieldOf({ url: 'https://h.example/', types: ['bad'] }, BODY_FIELDS)).toBe('types');
  });

  it('log-analytics needs endpoint, rule and stream, and refuses webhook fields', () => {
    const la = {
      logAnalytics: true,
      endpoint: 'https://dce-1.westeurope-1.ingest.monitor.azure.com/',
      ruleId: `dcr-${'0123456789abcdef'.repeat(2)}`,
      stream: 'Custom-DefenderIncidents_CL',
    };
    const made = newSubscription(la, NOW, fresh);
    expect(made.record).toMatchObject({
      kind: 'log-analytics',
      endpoint: 'https://dce-1.westeurope-1.ingest.monitor.azure.com',
      ruleId: la.ruleId,
      stream: la.stream,
    });
    expect(made.secret).toBeUndefined();
    expect(fieldOf({ ...la, endpoint: undefined })).toBe('--endpoint');
    expect(fieldOf({ ...la, ruleId: 'rule-1' })).toBe('--rule');
    expect(fieldOf({ ...la, stream: 'Incidents' })).toBe('--stream');
    expect(fieldOf({ ...la, url: 'https://h.example/' })).toBe('--url');
    expect(fieldOf({ ...la, secret: fresh.secret() })).toBe('--secret');
    expect(fieldOf({ url: 'https://h.example/', stream: 'Custom-X_CL' })).toBe('--stream');
  });
});

describe('matchesFilters', () => {
  const entry = (severity: string | undefined, type: EventEntry['type'] = 'incident.updated'): EventEntry => ({
    tenantId: T,
    sequence: 1,
    incidentId: '1',
    lastUpdateTime: '2026-11-01T00:00:00Z',
    type,
    time: NOW.toISOString(),
    ...(severity !== undefined ? { severity } : {}),
  });

  it('min severity compares case-insensitively on both sources; unknown and missing severities pass', () => {
    const f = { minSeverity: 'medium' as const };
    expect(matchesFilters(f, entry('Medium'))).toBe(true);
    expect(matchesFilters(f, entry('HIGH'))).toBe(true);
    expect(matchesFilters(f, entry('low'))).toBe(false);
    expect(matchesFilters(f, entry('Informational'))).toBe(false);
    expect(matchesFilters(f, entry('UnSpecified'))).toBe(true);
    expect(matchesFilters(f, entry('unknownFutureValue'))).toBe(true);
    expect(matchesFilters(f, entry(undefined))).toBe(true);
  });

  it('tenants and types narrow; all filters combine with AND', () => {
    expect(matchesFilters({ tenants: [T] }, entry('low'))).toBe(true);
    expect(matchesFilters({ tenants: ['0a1b2c3d-0000-4000-8000-000000000002'] }, entry('low'))).toBe(false);
    expect(matchesFilters({ types: ['incident.created'] }, entry('low'))).toBe(false);
    expect(
      matchesFilters({ types: ['incident.created'], minSeverity: 'high' }, entry('high', 'incident.created')),
    ).toBe(true);
    expect(matchesFilters({ types: ['incident.created'], minSeverity: 'high' }, entry('low', 'incident.created'))).toBe(
      false,
    );
  });
});
