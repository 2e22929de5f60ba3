/**
 * Bearer-token checks shared by the API simulators: RS256 signature against the Entra sim's key, `exp`, and
 * `aud`. The APIs take the tenant from the verified token's `tid`, as the real services do.
 */
import { jwtVerify, type CryptoKey, type JWTPayload, type KeyObject } from 'jose';

export type BearerCheck =
  | { readonly ok: true; readonly claims: JWTPayload & { tid?: string; roles?: string[] } }
  | { readonly ok: false; readonly reason: 'missing' | 'invalid' | 'expired' | 'audience' };

export async function checkBearer(
  authorization: string | undefined,
  key: CryptoKey | KeyObject,
  audience: string,
): Promise<BearerCheck> {
  const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!m?.[1]) return { ok: false, reason: 'missing' };
  try {
    const { payload } = await jwtVerify(m[1], key, { algorithms: ['RS256'], audience });
    return { ok: true, claims: payload as JWTPayload & { tid?: string; roles?: string[] } };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ERR_JWT_EXPIRED') return { ok: false, reason: 'expired' };
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && (error as { claim?: string }).claim === 'aud')
      return { ok: false, reason: 'audience' };
    return { ok: false, reason: 'invalid' };
  }
}

/** Roles claim as a list (absent → empty). */
export function rolesOf(claims: { roles?: unknown }): string[] {
  return Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
}
