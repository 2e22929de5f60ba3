import { describe, expect, it } from '@jest/globals';
import { incidentRecords } from '../../../shared/adapters/odata.js';

const good = (id: string, t: string) => ({ id, lastUpdateDateTime: t, title: `incident ${id}` });

describe('incidentRecords', () => {
  it('accepts Z and offset timestamps, and numeric IDs as decimal strings', () => {
    const { incidents, rejected } = incidentRecords(
      {
        value: [
          good('1', '2026-01-01T00:00:00.1234567Z'),
          good('2', '2026-01-01T02:00:00+02:00'),
          { id: 3, lastUpdateDateTime: '2026-01-01T00:00:00Z' },
        ],
      },
      'Graph incidents',
      'id',
      'lastUpdateDateTime',
    );
    expect(rejected).toEqual([]);
    expect(incidents.map((i) => [i.incidentId, i.lastUpdateTime])).toEqual([
      ['1', '2026-01-01T00:00:00.1234567Z'],
      ['2', '2026-01-01T02:00:00+02:00'],
      ['3', '2026-01-01T00:00:00Z'],
    ]);
  });

  it('rejects each bad record with a reason naming the field, keeping the raw record and the good ones', () => {
    const nullTime = { id: '4', lastUpdateDateTime: null };
    const noZone = { id: '5', lastUpdateDateTime: '2026-01-01T00:00:00' };
    const garbage = { id: '6', lastUpdateDateTime: 'yesterday' };
    const noId = { lastUpdateDateTime: '2026-01-01T00:00:00Z' };
    const { incidents, rejected } = incidentRecords(
      { value: [good('1', '2026-01-01T00:00:00Z'), nullTime, noZone, garbage, noId, 'not an object'] },
      'Graph incidents',
      'id',
      'lastUpdateDateTime',
    );
    expect(incidents.map((i) => i.incidentId)).toEqual(['1']);
    expect(rejected).toEqual([
      { raw: nullTime, reason: "'lastUpdateDateTime' is null" },
      {
        raw: noZone,
        reason: `'lastUpdateDateTime' is not an ISO-8601 instant with a time zone: "2026-01-01T00:00:00"`,
      },
      { raw: garbage, reason: `'lastUpdateDateTime' is not an ISO-8601 instant with a time zone: "yesterday"` },
      { raw: noId, reason: "'id' is missing" },
      { raw: 'not an object', reason: 'the record is not a JSON object' },
    ]);
  });

  it('an answer without a value array is still malformed as a whole (transient)', () => {
    expect(() => incidentRecords({}, 'Legacy incidents', 'incidentId', 'lastUpdateTime')).toThrow(
      expect.objectContaining({ code: 'MALFORMED_RESPONSE', kind: 'transient' }),
    );
  });
});
