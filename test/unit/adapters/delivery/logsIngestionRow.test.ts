/** The Logs Ingestion row of an event (design §9 columns) and the Retry-After reading, without a network. */
import { describe, expect, it } from '@jest/globals';
import {
  MAX_ROW_BYTES,
  MONITOR_AUDIENCE,
  retryAfterMs,
  toIncidentRow,
} from '../../../../shared/adapters/delivery/logsIngestionSender.js';
import type { IncidentCloudEvent } from '../../../../shared/ports.js';

function event(incident: Record<string, unknown>, extra: Partial<IncidentCloudEvent['data']> = {}): IncidentCloudEvent {
  return {
    specversion: '1.0',
    id: 't/1/2026-11-01T00:00:00Z',
    source: '/tenants/t',
    type: 'incident.created',
    subject: 'incidents/1',
    time: '2026-11-29T12:00:00.000Z',
    datacontenttype: 'application/json',
    data: {
      tenantId: 't',
      incidentId: '1',
      lastUpdateTime: '2026-11-01T00:00:00Z',
      source: 'm365d',
      sequence: 1,
      incident,
      ...extra,
    },
  };
}

describe('toIncidentRow', () => {
  it('leaves absent values out and writes non-string scalars as text', () => {
    const row = toIncidentRow(event({ incidentId: 1 }, { severity: 64, status: null, title: undefined }));

    expect(row).toEqual({
      TimeGenerated: '2026-11-29T12:00:00.000Z',
      TenantId: 't',
      IncidentId: '1',
      LastUpdateTime: '2026-11-01T00:00:00Z',
      Source: 'm365d',
      EventType: 'incident.created',
      Severity: '64',
      Incident: { incidentId: 1 },
    });
  });

  it('drops the alerts (keeping their count) of an incident whose row would exceed the 1 MB call limit', () => {
    const alerts = Array.from({ length: 12 }, (_, i) => ({ id: `a${i}`, text: 'y'.repeat(100_000) }));

    const row = toIncidentRow(event({ incidentId: 1, severity: 'High', alerts }));

    expect(row.Incident).toEqual({ incidentId: 1, severity: 'High', alertCount: 12 });
    expect(Buffer.byteLength(JSON.stringify(row))).toBeLessThan(MAX_ROW_BYTES);
  });
});

describe('retryAfterMs', () => {
  it('reads delta seconds and HTTP dates; undefined for nothing readable', () => {
    const now = Date.parse('2026-11-29T12:00:00Z');
    expect(retryAfterMs('7', now)).toBe(7000);
    expect(retryAfterMs('Sun, 29 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(retryAfterMs(undefined, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });
});

describe('MONITOR_AUDIENCE', () => {
  it('is the SDK audience of each cloud', () => {
    expect(MONITOR_AUDIENCE).toEqual({
      public: 'https://monitor.azure.com',
      gcc: 'https://monitor.azure.com',
      gcchigh: 'https://monitor.azure.us',
      dod: 'https://monitor.azure.us',
    });
  });
});
