/** The one GUID / tenant-ID rule shared by settings, use cases and hosts. */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../shared/domain/errors.js';
import { isGuid, isTenantId, parseTenantId } from '../../../shared/domain/tenantId.js';

const ID = 'AAAAAAAA-0000-4000-8000-000000000001';

describe('tenant IDs', () => {
  it('accepts a GUID in any case and nothing else', () => {
    expect(isGuid(ID)).toBe(true);
    expect(isTenantId(ID.toLowerCase())).toBe(true);
    for (const bad of [
      '',
      'contoso.onmicrosoft.com',
      `{${ID}}`,
      ` ${ID}`,
      ID.slice(1),
      `${ID}0`,
      ID.replace('A', 'G'),
    ]) {
      expect(isTenantId(bad)).toBe(false);
    }
  });

  it('parses to the stored (trimmed, lower-case) form', () => {
    expect(parseTenantId(`  ${ID} `)).toBe(ID.toLowerCase());
  });

  it('names the field in the error', () => {
    expect(() => parseTenantId('nope', '--tenant')).toThrow(InputError);
    expect(() => parseTenantId('nope', '--tenant')).toThrow(/--tenant must be a tenant ID/);
  });
});
