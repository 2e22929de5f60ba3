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

describe('private keys in log lines', () => {
  const body =
    'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDpemkeybodyline1\nQ2h1bmtPZlByaXZhdGVLZXlNYXRlcmlhbEZvclRlc3Rpbmc';
  const pem = `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;

  it('masks a registered PEM carried in an error message (newlines JSON-escaped on the line)', () => {
    registerSecret(pem);
    const lines: string[] = [];
    const log = createLogger((_l, line) => lines.push(line));
    log.error('credential.failed', { error: new Error(`could not parse ${pem} as a key`), message: `raw ${pem}` });
    expect(lines[0]).not.toContain('MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDpemkeybodyline1');
    expect(lines[0]).not.toContain('Q2h1bmtPZlByaXZhdGVLZXlNYXRlcmlhbEZvclRlc3Rpbmc');
    expect(JSON.parse(lines[0] as string)).toMatchObject({ event: 'credential.failed' });
  });

  it('masks any unregistered PRIVATE KEY block, raw and \\n-escaped', () => {
    const rsa = `-----BEGIN RSA PRIVATE KEY-----\nAAAAunregisteredkeymaterialBBBB\n-----END RSA PRIVATE KEY-----`;
    expect(redact(`x ${rsa} y`)).toBe('x [redacted-private-key] y');
    expect(redact(`x ${JSON.stringify(rsa).slice(1, -1)} y`)).toBe('x [redacted-private-key] y');
    const lines: string[] = [];
    createLogger((_l, line) => lines.push(line)).warn('x', { detail: { nested: [rsa] } });
    expect(lines[0]).not.toContain('unregisteredkeymaterial');
  });
});
