import { describe, expect, it } from '@jest/globals';
import { normaliseCredential } from '../../../shared/domain/credentialValue.js';

describe('normaliseCredential', () => {
  it('removes what tools add around a value: newline, CRLF, spaces, tabs, a byte-order mark', () => {
    expect(normaliseCredential('s3cr3t~value\n')).toEqual({ value: 's3cr3t~value', changed: true });
    expect(normaliseCredential('\uFEFFs3cr3t~value\r\n')).toEqual({ value: 's3cr3t~value', changed: true });
    expect(normaliseCredential(' \ts3cr3t~value ')).toEqual({ value: 's3cr3t~value', changed: true });
  });

  it('keeps inner characters exactly and says when nothing changed', () => {
    expect(normaliseCredential('a b\tc')).toEqual({ value: 'a b\tc', changed: false });
    expect(normaliseCredential('')).toEqual({ value: '', changed: false });
  });
});
