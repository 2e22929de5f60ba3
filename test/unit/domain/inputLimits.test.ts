import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../shared/domain/errors.js';
import { MAX_DISPLAY_NAME_LENGTH, parseDisplayName } from '../../../shared/domain/inputLimits.js';

describe('parseDisplayName', () => {
  it('trims, and reads a blank or absent name as no name', () => {
    expect(parseDisplayName('  Contoso Ltd  ')).toBe('Contoso Ltd');
    expect(parseDisplayName('   ')).toBeUndefined();
    expect(parseDisplayName(undefined)).toBeUndefined();
  });

  it('accepts 256 characters (code points, so an emoji counts once) and refuses 257, naming the field', () => {
    expect(parseDisplayName('n'.repeat(MAX_DISPLAY_NAME_LENGTH))).toHaveLength(256);
    expect(parseDisplayName('🛡'.repeat(256))).toBe('🛡'.repeat(256));
    const error = (() => {
      try {
        parseDisplayName('n'.repeat(257), '--name');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ field: '--name', message: '--name must be at most 256 characters; got 257.' });
  });

  it('refuses control characters (line breaks, tabs, escapes) anywhere inside', () => {
    for (const bad of ['a\nb', 'a\tb', 'a\u001b[31mb', 'a\u0085b'])
      expect(() => parseDisplayName(bad, 'name')).toThrow('name must not contain control characters');
  });
});
