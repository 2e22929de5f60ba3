import { describe, expect, it } from '@jest/globals';
import { createLogger, redact, registerSecret } from '../../shared/log.js';

describe('redact', () => {
  it('masks JWTs, bearer tokens, form secrets and registered secret values', () => {
    registerSecret('s3cr3t-value-xyz');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJlLXN0dWZm';
    const text = `auth Bearer abcdefghijkl token=${jwt} client_secret=hunter2hunter2&x=1 AccountKey=abc== secret s3cr3t-value-xyz`;
    const out = redact(text);
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('abcdefghijkl');
    expect(out).not.toContain('hunter2hunter2');
    expect(out).not.toContain('abc==');
    expect(out).not.toContain('s3cr3t-value-xyz');
  });

  it('logger lines are JSON with event and fields, redacted', () => {
    const lines: string[] = [];
    registerSecret('another-secret-123');
    const log = createLogger((_l, line) => lines.push(line), { runId: 'r1' });
    log.warn('tenant.failed', { tenantId: 't', message: 'oops another-secret-123', big: 10n });
    const parsed = JSON.parse(lines[0] as string) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'warn', event: 'tenant.failed', runId: 'r1', tenantId: 't', big: '10' });
    expect(lines[0]).not.toContain('another-secret-123');
  });
});

describe('failures carry no credentials', () => {
  it('toFailure redacts tokens and registered secrets from any error message', async () => {
    const { toFailure } = await import('../../shared/usecases/collectTenant.js');
    const { CollectorError } = await import('../../shared/domain/errors.js');
    registerSecret('partner-secret-abcdef');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJ0aWQiOiJ4In0.c2lnbmF0dXJlLXN0dWZm';
    const fromAdapter = toFailure(new CollectorError(`upstream said ${jwt}`, { code: 'HTTP_400', kind: 'permanent' }));
    const unexpected = toFailure(new TypeError('bad client_secret=partner-secret-abcdef'));
    expect(fromAdapter.message).not.toContain(jwt);
    expect(unexpected.message).not.toContain('partner-secret-abcdef');
    expect(unexpected).toMatchObject({ kind: 'permanent', code: 'INTERNAL' });
  });
});
