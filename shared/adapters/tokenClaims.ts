/**
 * The claims check every token passes before any API call (design §6 step 2): the token must be for the
 * tenant asked for (`tid`) and carry a read role (`roles`) — consent can be revoked while the service
 * principal stays, and Entra then still issues tokens, only without roles.
 */
import { decodeJwt } from 'jose';
import { CollectorError } from '../domain/errors.js';
import { ErrorCode } from '../domain/errorCodes.js';

/** Throws CollectorError TOKEN_TENANT_MISMATCH (credential_error) or MISSING_ROLE (missing_permissions). */
export function verifyTokenClaims(token: string, tenantId: string, readRoles: readonly string[]): void {
  const claims = verifyTokenTenant(token, tenantId);
  const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
  if (!roles.some((role) => readRoles.includes(role))) {
    const held = roles.length > 0 ? roles.join(', ') : 'none';
    throw new CollectorError(
      `The token for tenant ${tenantId} lacks a read role (${readRoles.join(' or ')}); roles held: ${held}.`,
      { code: ErrorCode.MISSING_ROLE, kind: 'missing_permissions' },
    );
  }
}

/**
 * The tenant half of the check (also `credentials check`, whose home-tenant token need not carry a read role): the
 * token is a JWT whose `tid` is `tenantId`. Returns its claims. Throws CollectorError TOKEN_MALFORMED or
 * TOKEN_TENANT_MISMATCH (credential_error).
 */
export function verifyTokenTenant(token: string, tenantId: string): Record<string, unknown> {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch (error) {
    throw new CollectorError(`The token for tenant ${tenantId} is not a readable JWT.`, {
      code: ErrorCode.TOKEN_MALFORMED,
      kind: 'credential_error',
      cause: error,
    });
  }
  const tid = claims.tid;
  if (typeof tid !== 'string' || tid.toLowerCase() !== tenantId.toLowerCase()) {
    const found = typeof tid === 'string' ? `tenant ${tid}` : 'no tenant (tid missing)';
    throw new CollectorError(`The token requested for tenant ${tenantId} was issued for ${found}.`, {
      code: ErrorCode.TOKEN_TENANT_MISMATCH,
      kind: 'credential_error',
    });
  }
  return claims;
}
