import { describe, expect, it } from '@jest/globals';
import {
  alertsDiffer,
  buildCloudEvent,
  diffIncidents,
  eventIncident,
  EventSequenceClock,
  MAX_EVENT_INCIDENT_BYTES,
  typeVersions,
} from '../../../shared/domain/incidentEvent.js';
import type { EventEntry } from '../../../shared/ports.js';

const T0 = Date.parse('2026-11-24T12:00:00.000Z');

describe('EventSequenceClock', () => {
  it('hands out max(now in µs, last + 1): strictly increasing, close to the clock', () => {
    const clock = new EventSequenceClock(undefined, T0 * 1000);
    expect(clock.next(T0)).toBe(T0 * 1000);
    expect(clock.next(T0)).toBe(T0 * 1000 + 1);
    expect(clock.next(T0 + 5)).toBe((T0 + 5) * 1000);
    expect(Number.isSafeInteger(clock.current)).toBe(true);
  });

  it('never goes below the seed instant, even when the clock steps back', () => {
    const clock = new EventSequenceClock(undefined, (T0 + 60_000) * 1000);
    expect(clock.next(T0)).toBe((T0 + 60_000) * 1000);
  });

  it('continues above a stored sequence written by a writer whose clock ran ahead', () => {
    const ahead = (T0 + 3_600_000) * 1000;
    const clock = new EventSequenceClock(ahead, T0 * 1000);
    expect(clock.next(T0)).toBe(ahead + 1);
  });
});

describe('diffIncidents', () => {
  const base = {
    id: '1',
    lastUpdateDateTime: '2026-11-20T10:00:00Z',
    status: 'active',
    assignedTo: null,
    tags: ['a', 'b'],
    alerts: [{ id: 'x' }, { id: 'y' }],
  };

  it('lists top-level keys that differ, sorted, never the lastUpdate key; previous omits alerts and absent keys', () => {
    const current = {
      id: '1',
      lastUpdateDateTime: '2026-11-20T11:00:00Z',
      status: 'resolved',
      tags: ['b', 'a'],
      classification: 'truePositive',
      alerts: [{ id: 'x' }],
    };
    expect(diffIncidents(base, current)).toEqual({
      changedFields: ['alerts', 'assignedTo', 'classification', 'status', 'tags'],
      previous: { assignedTo: null, status: 'active', tags: ['a', 'b'] },
    });
  });

  it('legacy lastUpdateTime is never listed; key order inside objects does not matter', () => {
    const a = { incidentId: 5, lastUpdateTime: '2024-01-01T00:00:00Z', meta: { a: 1, b: 2 } };
    const b = { incidentId: 5, lastUpdateTime: '2024-01-02T00:00:00Z', meta: { b: 2, a: 1 } };
    expect(diffIncidents(a, b)).toEqual({ changedFields: [], previous: {} });
  });

  it('a __proto__ key is kept as data in previous', () => {
    const previous = JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>;
    const diff = diffIncidents(previous, {});
    expect(diff.changedFields).toEqual(['__proto__']);
    expect(Object.prototype.hasOwnProperty.call(diff.previous, '__proto__')).toBe(true);
  });
});

describe('alertsDiffer', () => {
  it('compares alerts as a set keyed by Graph id or legacy alertId', () => {
    expect(alertsDiffer([{ id: 'a', s: 1 }, { id: 'b' }], [{ id: 'b' }, { s: 1, id: 'a' }])).toBe(false);
    expect(alertsDiffer([{ alertId: 'a' }], [{ alertId: 'b' }])).toBe(true);
    expect(alertsDiffer([{ id: 'a', status: 'new' }], [{ id: 'a', status: 'resolved' }])).toBe(true);
    expect(alertsDiffer([{ id: 'a' }], [{ id: 'a' }, { id: 'b' }])).toBe(true);
    expect(alertsDiffer(undefined, [])).toBe(true);
  });
});

describe('eventIncident', () => {
  it('keeps an incident of at most 1 MiB whole', () => {
    const incident = { id: '1', alerts: [{ id: 'a' }] };
    expect(eventIncident(incident)).toEqual({ incident });
  });

  it('drops alerts above 1 MiB (UTF-8 bytes), flagging truncated with alertCount', () => {
    // Multi-byte characters: under 1 MiB in UTF-16 length, over it in UTF-8 bytes.
    const alerts = [{ id: 'a', text: 'é'.repeat(MAX_EVENT_INCIDENT_BYTES / 2) }, { id: 'b' }];
    const out = eventIncident({ id: '1', status: 'active', alerts });
    expect(out).toEqual({ incident: { id: '1', status: 'active' }, truncated: true, alertCount: 2 });
  });
});

describe('buildCloudEvent', () => {
  const entry: EventEntry = {
    tenantId: 't1',
    sequence: 42,
    incidentId: '7',
    lastUpdateTime: '2026-11-20T11:00:00.1234567Z',
    type: 'incident.updated',
    time: '2026-11-24T12:00:00.000Z',
    severity: 'high',
  };

  it('builds the §9 envelope; an update without a stored previous version carries no diff', () => {
    const incident = { id: '7', status: 'resolved', severity: 'high', displayName: 'Seven' };
    const event = buildCloudEvent({ entry, source: 'graph', incident });
    expect(event).toEqual({
      specversion: '1.0',
      id: 't1/7/2026-11-20T11:00:00.1234567Z',
      source: '/tenants/t1',
      type: 'incident.updated',
      subject: 'incidents/7',
      time: '2026-11-24T12:00:00.000Z',
      datacontenttype: 'application/json',
      data: {
        tenantId: 't1',
        incidentId: '7',
        lastUpdateTime: '2026-11-20T11:00:00.1234567Z',
        source: 'graph',
        sequence: 42,
        severity: 'high',
        status: 'resolved',
        title: 'Seven',
        incident,
      },
    });
  });

  it('a created event never carries changedFields, even with a previous version given', () => {
    const event = buildCloudEvent({
      entry: { ...entry, type: 'incident.created' },
      source: 'm365d',
      incident: { incidentId: 7, incidentName: 'Legacy', status: 'Active' },
      previous: { incidentId: 7, status: 'Resolved' },
    });
    expect(event.data.title).toBe('Legacy');
    expect(event.data).not.toHaveProperty('changedFields');
    expect(event.data).not.toHaveProperty('previous');
  });
});

describe('typeVersions', () => {
  it('orders by instant then incident; created only for the oldest version of an incident with none stored', () => {
    const v = (idKey: string, lastUpdateKey: string) => ({ idKey, lastUpdateKey });
    const typed = typeVersions(
      [
        v('2', '2026-11-20T11:00:00.0000000Z'),
        v('1', '2026-11-20T10:00:00.0000000Z'),
        v('2', '2026-11-20T10:00:00.0000000Z'),
        v('3', '2026-11-20T09:00:00.0000000Z'),
      ],
      (idKey) => idKey === '3',
    );
    expect(typed.map((t) => [t.version.idKey, t.version.lastUpdateKey.slice(11, 13), t.type])).toEqual([
      ['3', '09', 'incident.updated'],
      ['1', '10', 'incident.created'],
      ['2', '10', 'incident.created'],
      ['2', '11', 'incident.updated'],
    ]);
  });
});
