/** Raw HTTPS calls for the simulator self-tests (node:https with the stack's CA, no SDK in between). */
import https from 'node:https';
import type { LocalStack } from '../../devstack/stack.js';

export interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json<T = Record<string, unknown>>(): T;
}

export function request(
  stack: LocalStack,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, ca: stack.caPem, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('aborted', () => reject(new Error('response aborted')));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A client-credentials token from the Entra sim for `tenantId` and the API at `apiUrl`. */
export async function tokenFor(stack: LocalStack, tenantId: string, apiUrl: string): Promise<string> {
  const answer = await requestToken(stack, tenantId, `${apiUrl}/.default`);
  if (answer.status !== 200) throw new Error(`token request failed: ${answer.status} ${answer.text}`);
  return answer.json<{ access_token: string }>().access_token;
}

export function requestToken(
  stack: LocalStack,
  tenantId: string,
  scope: string,
  secret = stack.partnerSecret,
  clientId = stack.env.PARTNER_CLIENT_ID ?? '',
): Promise<RawAnswer> {
  const body = new URLSearchParams({
    client_id: clientId,
    client_secret: secret,
    scope,
    grant_type: 'client_credentials',
  }).toString();
  return request(stack, `${stack.entra.url}/${tenantId}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
