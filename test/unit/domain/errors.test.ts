import { describe, expect, it } from '@jest/globals';
import { classifyHttpStatus, ensureError } from '../../../shared/domain/errors.js';

describe('classifyHttpStatus', () => {
  it('maps API statuses', () => {
    expect(classifyHttpStatus(403)).toEqual({ code: 'HTTP_403', kind: 'missing_permissions' });
    expect(classifyHttpStatus(429).kind).toBe('transient');
    expect(classifyHttpStatus(503).kind).toBe('transient');
    expect(classifyHttpStatus(400).kind).toBe('permanent');
  });
});

describe('ensureError', () => {
  it('normalises anything thrown', () => {
    expect(ensureError('boom').message).toBe('boom');
    expect(ensureError({ a: 1 }).message).toBe('{"a":1}');
    const e = new TypeError('x');
    expect(ensureError(e)).toBe(e);
  });
});
