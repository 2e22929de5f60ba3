/** The Table clients' EPIPE re-send policy: which failures it re-sends, how often, and what it leaves alone. */
import { describe, expect, it } from '@jest/globals';
import { SOCKET_RETRIES, socketRetryPolicy } from '../../../../shared/adapters/tables/socketRetryPolicy.js';

type Policy = ReturnType<typeof socketRetryPolicy>;
type Request = Parameters<Policy['sendRequest']>[0];
type Response = Awaited<ReturnType<Policy['sendRequest']>>;

const request = { url: 'http://127.0.0.1:10002/devstoreaccount1/$batch', method: 'POST' } as unknown as Request;
const answer = { status: 202 } as unknown as Response;

/** A next stage that fails with the given errors in turn, then answers; records how often it was called. */
function stage(failures: unknown[]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    next: async () => {
      calls++;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return answer;
    },
  };
}

const epipe = () => Object.assign(new Error('write EPIPE'), { name: 'RestError', code: 'EPIPE' });

describe('socketRetryPolicy', () => {
  it('re-sends a request written to a socket the server had closed (EPIPE), and returns the answer', async () => {
    const s = stage([epipe(), epipe()]);
    await expect(socketRetryPolicy().sendRequest(request, s.next)).resolves.toBe(answer);
    expect(s.calls).toBe(3);
  });

  it('also recognises EPIPE as the cause of a wrapping error', async () => {
    const s = stage([new Error('send failed', { cause: epipe() })]);
    await expect(socketRetryPolicy().sendRequest(request, s.next)).resolves.toBe(answer);
    expect(s.calls).toBe(2);
  });

  it(`gives up after ${SOCKET_RETRIES} re-sends with the last error`, async () => {
    const last = epipe();
    const s = stage([epipe(), epipe(), last, epipe()]);
    await expect(socketRetryPolicy().sendRequest(request, s.next)).rejects.toBe(last);
    expect(s.calls).toBe(SOCKET_RETRIES + 1);
  });

  it('passes every other failure through at once (the SDK retry policy owns those)', async () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const s = stage([reset]);
    await expect(socketRetryPolicy().sendRequest(request, s.next)).rejects.toBe(reset);
    expect(s.calls).toBe(1);
  });
});
