import { describe, expect, it } from '@jest/globals';
import {
  compareInstants,
  dateToFixedWidth,
  isTimestamp,
  laterOf,
  shiftFixedWidth,
  toFixedWidth,
  TimestampError,
} from '../../../shared/domain/time.js';

describe('fixed-width timestamps', () => {
  it('pads legacy precision and keeps Graph 100 ns digits', () => {
    expect(toFixedWidth('2020-09-06T14:46:57.29Z')).toBe('2020-09-06T14:46:57.2900000Z');
    expect(toFixedWidth('2021-09-30T09:35:45.1133333Z')).toBe('2021-09-30T09:35:45.1133333Z');
    expect(toFixedWidth('2024-08-30T08:50:19Z')).toBe('2024-08-30T08:50:19.0000000Z');
  });

  it('converts offsets to UTC without losing sub-millisecond digits', () => {
    expect(toFixedWidth('2024-01-01T02:00:00.1234567+02:00')).toBe('2024-01-01T00:00:00.1234567Z');
  });

  it('rejects non-timestamps and zone-less times', () => {
    expect(() => toFixedWidth('yesterday')).toThrow(TimestampError);
    expect(() => toFixedWidth('2024-01-01T00:00:00')).toThrow(TimestampError);
    expect(() => toFixedWidth('2024-13-01T00:00:00Z')).toThrow(TimestampError);
    expect(isTimestamp('2024-01-01T00:00:00Z')).toBe(true);
    expect(isTimestamp('2024-01-01')).toBe(false);
  });

  it('orders instants that differ only below a millisecond', () => {
    expect(compareInstants('2021-09-30T09:35:45.1133334Z', '2021-09-30T09:35:45.1133333Z')).toBe(1);
    expect(compareInstants('2020-09-06T14:46:57.29Z', '2020-09-06T14:46:57.2900000Z')).toBe(0);
    expect(laterOf('2020-01-01T00:00:00Z', '2020-01-01T00:00:00.0000001Z')).toBe('2020-01-01T00:00:00.0000001Z');
    expect(laterOf(undefined, '2020-01-01T00:00:00Z')).toBe('2020-01-01T00:00:00Z');
  });

  it('shifts by milliseconds keeping the 100 ns tail', () => {
    expect(shiftFixedWidth('2021-09-30T09:35:45.1133333Z', -600_000)).toBe('2021-09-30T09:25:45.1133333Z');
    expect(dateToFixedWidth(new Date('2024-02-29T23:59:59.999Z'))).toBe('2024-02-29T23:59:59.9990000Z');
  });
});
