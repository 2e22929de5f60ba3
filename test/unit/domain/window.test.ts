import { describe, expect, it } from '@jest/globals';
import { computeWindow } from '../../../shared/domain/window.js';

const now = new Date('2026-11-24T12:00:00.000Z');
const base = { now, overlapSeconds: 600, lagSeconds: 300, initialLookbackDays: 30 };

describe('computeWindow', () => {
  it('starts the first run at the initial lookback and ends lag behind now', () => {
    expect(computeWindow(base)).toEqual({ from: '2026-10-25T12:00:00.0000000Z', to: '2026-11-24T11:55:00.0000000Z' });
  });

  it('starts overlap seconds before the checkpoint, keeping its full precision', () => {
    expect(computeWindow({ ...base, checkpoint: '2026-11-24T11:00:00.1234567Z' })).toEqual({
      from: '2026-11-24T10:50:00.1234567Z',
      to: '2026-11-24T11:55:00.0000000Z',
    });
  });

  it('lets --since win over the checkpoint for a backfill', () => {
    expect(computeWindow({ ...base, checkpoint: '2026-11-24T11:00:00Z', since: '2026-01-01T00:00:00Z' })?.from).toBe(
      '2026-01-01T00:00:00.0000000Z',
    );
  });

  it('accepts a zero lag and is empty when the start is after the end', () => {
    expect(computeWindow({ ...base, lagSeconds: 0, checkpoint: '2026-11-24T11:59:00Z' })?.to).toBe(
      '2026-11-24T12:00:00.0000000Z',
    );
    expect(computeWindow({ ...base, overlapSeconds: 0, checkpoint: '2026-11-24T11:58:00Z' })).toBeUndefined();
  });
});
