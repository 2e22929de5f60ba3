import { describe, expect, it } from '@jest/globals';
import { mapBounded } from '../../../shared/lib/bounded.js';

describe('mapBounded', () => {
  it('never runs more than the limit at once and keeps input order', async () => {
    let inFlight = 0;
    let peak = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (n) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(peak).toBe(2);
  });

  it('stops starting new items once asked to, handing them to onSkipped', async () => {
    let stop = false;
    const out = await mapBounded(
      [1, 2, 3, 4],
      1,
      async (n) => {
        if (n === 2) stop = true;
        return `ran ${n}`;
      },
      async (n) => `skipped ${n}`,
      () => stop,
    );
    expect(out).toEqual(['ran 1', 'ran 2', 'skipped 3', 'skipped 4']);
  });
});
