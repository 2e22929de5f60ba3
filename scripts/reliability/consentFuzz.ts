/**
 * Consent fuzzing (issue 5 §3): generated callback requests — random, forged, replayed, expired and truncated
 * `state`; odd encodings; huge parameters; HTML/JS in every parameter; wrong methods; states bound to another
 * tenant — sent to the real `consentCallback` handler with real HttpRequest/InvocationContext objects. Figures:
 * tenants registered without a valid state, 5xx answers (or throws), and injected `<`, `"`, `'` echoed raw.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import functions from '@azure/functions';
import { consentCallback } from '../../functions/http/consentCallback.js';
import { loadSettings } from '../../shared/config/settings.js';
import { createServices, type Services } from '../../shared/composition.js';
import { setHostServices } from '../../shared/host/hostServices.js';
import { createLogger } from '../../shared/log.js';
import { createConsentLink } from '../../shared/usecases/consent.js';
import type { LocalStack } from '../../devstack/stack.js';
import type { TenantAllocator } from './tenantAllocator.js';

export interface FuzzOptions {
  readonly stack: LocalStack;
  readonly allocator: TenantAllocator;
  readonly requests: number;
  /** Deterministic choice of cases. */
  readonly seed: number;
  readonly logLines: string[];
}

export interface FuzzFigures {
  readonly requests: number;
  readonly registeredWithoutValidState: number;
  readonly serverErrors: number;
  readonly unescapedReflections: number;
  /** Legitimate consents (valid state, matching tenant) that were accepted: proves the handler was reachable. */
  readonly legitimateAccepted: number;
  readonly byCategory: Record<string, number>;
}

const METHODS = ['POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];
const ODD = [
  '%00',
  '\u0000',
  '%E0%A4%A',
  '\ud800',
  '\u202e',
  '..%2f..%2f',
  '%25%32%35',
  '+%20+',
  '\r\nSet-Cookie: x=1',
  '&state=',
  '\u{1F600}'.repeat(3),
  'A'.repeat(3) + '%',
];

/** A small seeded PRNG (mulberry32): the same seed gives the same requests. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** HTML/JS payloads; each carries `<fzN`, `"fzN` and `'fzN` so a raw echo is recognisable. */
function hostile(n: number, pick: () => number): string {
  const forms = [
    `<script>alert('x')</script><fz${n}>"fz${n}"'fz${n}'`,
    `"><img src=x onerror=alert(1)><fz${n} "fz${n} 'fz${n}`,
    `' onmouseover='alert(1)' <fz${n}/> "fz${n}" 'fz${n}`,
    `javascript:alert(1)//<fz${n}>"fz${n}'fz${n}`,
    `<svg/onload=alert(1)><fz${n}>"fz${n}"'fz${n}'</svg>`,
  ];
  return forms[Math.floor(pick() * forms.length)] as string;
}

interface Ctx {
  readonly services: Services;
  readonly pick: () => number;
  readonly granted: readonly string[];
  readonly consumed: string[];
  readonly allowed: Set<string>;
}

interface FuzzRequest {
  readonly category: string;
  readonly method: string;
  readonly query: Record<string, string>;
  readonly markers: string[];
  readonly legitimate?: string;
}

function any<T>(pick: () => number, list: readonly T[]): T {
  return list[Math.floor(pick() * list.length)] as T;
}

async function freshState(ctx: Ctx, tenant?: string): Promise<string> {
  const link = await createConsentLink(ctx.services.consentLinkDeps(), tenant ? { tenant } : {});
  return link.state;
}

async function generate(ctx: Ctx, n: number): Promise<FuzzRequest> {
  const { pick } = ctx;
  const tenant = any(pick, ctx.granted);
  const base = { admin_consent: 'True', tenant, scope: 'x' };
  const roll = Math.floor(pick() * 12);
  switch (roll) {
    case 0:
      return {
        category: 'random state',
        method: 'GET',
        query: { ...base, state: randomBytes(Math.floor(pick() * 64)).toString('base64url') },
        markers: [],
      };
    case 1:
      return {
        category: 'forged state',
        method: 'GET',
        query: {
          ...base,
          state: any(pick, [randomUUID(), randomBytes(32).toString('base64url'), randomBytes(32).toString('hex')]),
        },
        markers: [],
      };
    case 2: {
      const state = ctx.consumed.length > 0 ? any(pick, ctx.consumed) : randomUUID();
      return { category: 'replayed state', method: 'GET', query: { ...base, state }, markers: [] };
    }
    case 3: {
      const state = await freshState(ctx);
      const cut = state.slice(0, Math.max(0, state.length - 1 - Math.floor(pick() * 10)));
      return { category: 'truncated state', method: 'GET', query: { ...base, state: cut }, markers: [] };
    }
    case 4: {
      const state = randomBytes(32).toString('base64url');
      const long = new Date(Date.now() - 48 * 3_600_000).toISOString();
      await ctx.services.consentStates.save(state, {
        createdAt: long,
        expiresAt: new Date(Date.now() - 1_000).toISOString(),
      });
      return { category: 'expired state', method: 'GET', query: { ...base, state }, markers: [] };
    }
    case 5:
      return { category: 'missing state', method: 'GET', query: { ...base }, markers: [] };
    case 6: {
      const query: Record<string, string> = {};
      for (const key of ['state', 'tenant', 'error', 'error_description', 'admin_consent'])
        if (pick() < 0.7) query[key] = any(pick, ODD) + any(pick, ODD);
      return { category: 'odd encodings', method: 'GET', query, markers: [] };
    }
    case 7: {
      const huge = (pick() < 0.5 ? 'A' : '<fz0>').repeat(20_000 + Math.floor(pick() * 80_000));
      const key = any(pick, ['state', 'tenant', 'error', 'error_description']);
      return {
        category: 'huge parameter',
        method: 'GET',
        query: { ...base, state: randomUUID(), [key]: huge },
        markers: [],
      };
    }
    case 8: {
      const query: Record<string, string> = {};
      for (const key of ['state', 'tenant', 'error', 'error_description', 'admin_consent', 'scope'])
        query[key] = hostile(n, pick);
      if (pick() < 0.5) query.state = ctx.consumed.length > 0 ? any(pick, ctx.consumed) : randomUUID();
      return {
        category: 'HTML/JS in every parameter',
        method: 'GET',
        query,
        markers: [`<fz${n}`, `"fz${n}`, `'fz${n}`],
      };
    }
    case 9: {
      // A valid, unused state with an error (hostile text in it): consumed, nothing registered, text escaped.
      const state = await freshState(ctx);
      ctx.consumed.push(state);
      return {
        category: 'error with valid state',
        method: 'GET',
        query: { ...base, state, error: 'access_denied', error_description: hostile(n, pick) },
        markers: [`<fz${n}`, `"fz${n}`, `'fz${n}`],
      };
    }
    case 10: {
      // A state bound to one tenant, redeemed for another (granted) tenant.
      const bound = any(pick, ctx.granted);
      const other = ctx.granted.find((t) => t !== bound) ?? bound;
      const state = await freshState(ctx, bound);
      ctx.consumed.push(state);
      return {
        category: 'state bound to another tenant',
        method: 'GET',
        query: { ...base, tenant: other === bound ? randomUUID() : other, state },
        markers: [],
      };
    }
    default: {
      const state = await freshState(ctx, tenant);
      const method = any(pick, METHODS);
      // Not consumed: the host routes only GET here, and the handler refuses other methods before reading state.
      return { category: 'wrong method', method, query: { ...base, state }, markers: [] };
    }
  }
}

/** One legitimate consent per granted tenant: these registrations are the only ones allowed. */
async function legitimate(ctx: Ctx, tenant: string): Promise<FuzzRequest> {
  const state = await freshState(ctx, tenant);
  ctx.consumed.push(state);
  ctx.allowed.add(tenant);
  return {
    category: 'legitimate',
    method: 'GET',
    query: { admin_consent: 'True', tenant, scope: 'x', state },
    markers: [],
    legitimate: tenant,
  };
}

async function send(request: FuzzRequest): Promise<{ status: number; body: string }> {
  const http = new functions.HttpRequest({
    method: request.method,
    url: 'https://127.0.0.1/api/consent/callback',
    query: request.query,
    headers: {},
  });
  const context = new functions.InvocationContext({
    invocationId: randomUUID(),
    functionName: 'consentCallback',
    logHandler: () => undefined,
  });
  try {
    const answer = await consentCallback(http, context);
    return {
      status: answer.status ?? 200,
      body: typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? ''),
    };
  } catch {
    // The host answers an unhandled error with 500.
    return { status: 500, body: '' };
  }
}

export async function fuzzConsent(options: FuzzOptions): Promise<FuzzFigures> {
  const { stack } = options;
  const env = { ...stack.env, SYNC_LAG_SECONDS: '0' };
  const services = createServices(loadSettings(env), {
    env,
    logger: createLogger((_l, line) => void options.logLines.push(line)),
  });
  await services.ready();
  setHostServices(services);
  const granted = options.allocator.allocate(8, 1);
  const before = new Set((await services.tenants.list()).map((t) => t.tenantId));
  const ctx: Ctx = { services, pick: prng(options.seed), granted, consumed: [], allowed: new Set() };
  const byCategory: Record<string, number> = {};
  let serverErrors = 0;
  let unescaped = 0;
  let legitimateAccepted = 0;
  try {
    for (let n = 1; n <= options.requests; n++) {
      const legit = n % 500 === 1 && ctx.allowed.size < granted.length;
      const request = legit ? await legitimate(ctx, granted[ctx.allowed.size] as string) : await generate(ctx, n);
      byCategory[request.category] = (byCategory[request.category] ?? 0) + 1;
      const answer = await send(request);
      if (answer.status >= 500) serverErrors++;
      if (request.markers.some((m) => answer.body.includes(m))) unescaped++;
      if (request.legitimate !== undefined && answer.status === 200) legitimateAccepted++;
    }
  } finally {
    setHostServices(undefined);
  }
  const registered = (await services.tenants.list()).map((t) => t.tenantId).filter((t) => !before.has(t));
  return {
    requests: options.requests,
    registeredWithoutValidState: registered.filter((t) => !ctx.allowed.has(t)).length,
    serverErrors,
    unescapedReflections: unescaped,
    legitimateAccepted,
    byCategory,
  };
}
