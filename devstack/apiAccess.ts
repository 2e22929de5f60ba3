/**
 * What the two incident APIs share before they look at data: bearer check against the Entra sim, role check,
 * the per-tenant quota, and strict parsing of integer query options. Each API supplies its own error bodies.
 */
import { checkBearer, rolesOf } from './bearer.js';
import type { EntraSim } from './entra.js';
import type { TenantQuota } from './quota.js';
import type { RouteContext, SimResponse } from './simServer.js';

export interface ApiErrors {
  unauthorized(message: string): SimResponse;
  forbidden(): SimResponse;
  throttled(retryAfterSeconds: number): SimResponse;
}

export type AccessResult =
  { readonly ok: true; readonly tenantId: string } | { readonly ok: false; readonly answer: SimResponse };

const REASONS: Record<string, string> = {
  missing: 'Access token is empty.',
  invalid: 'Access token validation failure. Invalid signature or malformed token.',
  expired: 'Lifetime validation failed, the token is expired.',
  audience: 'Access token validation failure. Invalid audience.',
};

export async function checkAccess(
  ctx: RouteContext,
  entra: EntraSim,
  audience: string,
  readRoles: readonly string[],
  quota: TenantQuota,
  errors: ApiErrors,
): Promise<AccessResult> {
  const auth = await checkBearer(ctx.headers.authorization, entra.publicKey, audience);
  if (!auth.ok) return { ok: false, answer: errors.unauthorized(REASONS[auth.reason] ?? 'Unauthorized') };
  const tenantId = auth.claims.tid;
  if (typeof tenantId !== 'string' || tenantId === '')
    return {
      ok: false,
      answer: errors.unauthorized('Access token validation failure: the token has no tenant (tid).'),
    };
  if (!rolesOf(auth.claims).some((r) => readRoles.includes(r))) return { ok: false, answer: errors.forbidden() };
  const verdict = quota.take(tenantId.toLowerCase());
  if (!verdict.allowed) return { ok: false, answer: errors.throttled(verdict.retryAfterSeconds) };
  return { ok: true, tenantId: tenantId.toLowerCase() };
}

/** A non-negative integer query option: undefined when absent, NaN when malformed. */
export function intOption(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  return /^\d{1,9}$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
}

/** `$`-options outside `allowed` (the sims refuse what they do not implement rather than ignore it). */
export function unknownOptions(query: URLSearchParams, allowed: readonly string[]): string[] {
  return [...new Set([...query.keys()].filter((k) => k.startsWith('$') && !allowed.includes(k)))];
}
