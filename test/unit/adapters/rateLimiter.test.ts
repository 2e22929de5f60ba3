import { describe, expect, it } from '@jest/globals';
import { RateLimiter, SOURCE_QUOTAS, nextAdmission, type LimiterClock } from '../../../shared/adapters/rateLimiter.js';

/** A clock whose time moves only when the test says so; due timers fire in time order. */
class FakeClock implements LimiterClock {
  time = 0;
  private timers: { at: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.time;
  }
  schedule(fn: () => void, ms: number): () => void {
    const timer = { at: this.time + ms, fn, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }
  pendingTimers(): number {
    return this.timers.filter((t) => t.live).length;
  }
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.live && t.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.time = Math.max(this.time, due.at);
      due.live = false;
      due.fn();
      await flush();
    }
    this.time = end;
    await flush();
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function track(promises: Promise<void>[]): { done: () => number } {
  let done = 0;
  for (const p of promises) void p.then(() => done++);
  return { done: () => done };
}

describe('nextAdmission', () => {
  it('admits at once below every window and waits for the blocking grant to leave a full window', () => {
    const windows = [{ allowed: 3, windowMs: 1000 }];
    expect(nextAdmission([0, 10], windows, 0, 20)).toBe(20);
    expect(nextAdmission([0, 10, 20], windows, 0, 30)).toBe(1000);
    expect(nextAdmission([0, 10, 20], windows, 5000, 30)).toBe(5000);
  });

  it('takes the latest admission over several windows', () => {
    const windows = [
      { allowed: 2, windowMs: 100 },
      { allowed: 3, windowMs: 1000 },
    ];
    expect(nextAdmission([0, 50, 500], windows, 0, 510)).toBe(1000);
  });
});

describe('RateLimiter', () => {
  it('keeps the legacy quota at 96%: 48 per minute, then waits for the window to slide', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: SOURCE_QUOTAS.m365d, clock, windowGuardMs: 0 });
    const t = track(Array.from({ length: 60 }, () => limiter.acquire('t1')));
    await flush();
    expect(t.done()).toBe(48);
    await clock.advance(59_999);
    expect(t.done()).toBe(48);
    await clock.advance(1);
    expect(t.done()).toBe(60);
  });

  it('enforces the hourly window too (1,440 per hour), with the windows as given', async () => {
    const clock = new FakeClock();
    // The legacy quotas with minute and hour shortened sixtyfold, as a fast-time stack passes them.
    const quotas = [
      { limit: 50, windowMs: 1_000 },
      { limit: 1_500, windowMs: 60_000 },
    ];
    const limiter = new RateLimiter({ quotas, clock, windowGuardMs: 0 });
    const t = track(Array.from({ length: 1_500 }, () => limiter.acquire('t1')));
    // 48 per (1 s) minute until 1,440 in the (60 s) hour.
    await clock.advance(1_000);
    expect(t.done()).toBe(96);
    await clock.advance(29_000);
    expect(t.done()).toBe(1_440);
    await clock.advance(29_999);
    expect(t.done()).toBe(1_440);
    await clock.advance(2_000);
    expect(t.done()).toBe(1_500);
  });

  it('is per tenant: one busy tenant does not slow another', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 2, windowMs: 1000 }], margin: 1, clock, windowGuardMs: 0 });
    const a = track([limiter.acquire('a'), limiter.acquire('a'), limiter.acquire('a')]);
    const b = track([limiter.acquire('b'), limiter.acquire('b')]);
    await flush();
    expect(a.done()).toBe(2);
    expect(b.done()).toBe(2);
  });

  it('serves waiters in FIFO order', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 1, windowMs: 100 }], margin: 1, clock, windowGuardMs: 0 });
    const order: number[] = [];
    const all = [1, 2, 3, 4].map((n) => limiter.acquire('t').then(() => order.push(n)));
    await clock.advance(1_000);
    await Promise.all(all);
    expect(order).toEqual([1, 2, 3, 4]);
  });

  it('pauses every caller of a tenant after penalize (a 429 arrived anyway)', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 100, windowMs: 1000 }], clock, windowGuardMs: 0 });
    limiter.penalize('t', 5_000);
    const t = track([limiter.acquire('t'), limiter.acquire('t')]);
    await clock.advance(4_999);
    expect(t.done()).toBe(0);
    await clock.advance(1);
    expect(t.done()).toBe(2);
    // Another tenant is unaffected.
    const other = track([limiter.acquire('u')]);
    await flush();
    expect(other.done()).toBe(1);
  });

  it('rejects an aborted waiter with the signal reason and lets the next one through', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 1, windowMs: 100 }], margin: 1, clock, windowGuardMs: 0 });
    await limiter.acquire('t');
    const controller = new AbortController();
    const aborted = limiter.acquire('t', controller.signal);
    const next = limiter.acquire('t');
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(limiter.waiting('t')).toBe(1);
    await clock.advance(100);
    await expect(next).resolves.toBeUndefined();
  });

  it('leaves no timer pending once every waiter is served', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 1, windowMs: 100 }], margin: 1, clock, windowGuardMs: 0 });
    const all = [limiter.acquire('t'), limiter.acquire('t'), limiter.acquire('t')];
    await clock.advance(500);
    await Promise.all(all);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('lengthens each window by the guard (default 100 ms of real time) so arrival jitter cannot squeeze two windows together', async () => {
    const clock = new FakeClock();
    const limiter = new RateLimiter({ quotas: [{ limit: 2, windowMs: 1000 }], margin: 1, clock });
    const t = track([limiter.acquire('t'), limiter.acquire('t'), limiter.acquire('t')]);
    await clock.advance(1_000);
    expect(t.done()).toBe(2);
    await clock.advance(99);
    expect(t.done()).toBe(2);
    await clock.advance(1);
    expect(t.done()).toBe(3);
  });

  it.each([
    [{ limit: 0, windowMs: 1_000 }, 'quotas[0].limit must be a positive integer'],
    [{ limit: 1.5, windowMs: 1_000 }, 'quotas[0].limit must be a positive integer'],
    [{ limit: 10, windowMs: 0 }, 'quotas[0].windowMs must be positive'],
    [{ limit: 10, windowMs: Number.NaN }, 'quotas[0].windowMs must be positive'],
  ])('rejects a bad quota window %o, naming the field', (window, message) => {
    expect(() => new RateLimiter({ quotas: [window] })).toThrow(new RangeError(message));
  });
});
