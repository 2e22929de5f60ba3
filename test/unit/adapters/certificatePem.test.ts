/** The certificate credential's PEM (issue 13): PEM or PKCS#12 from Key Vault, key first, leaf before the chain. */
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { certificatePem } from '../../../shared/adapters/partnerCredential.js';
import { CollectorError } from '../../../shared/domain/errors.js';
import { createPartnerCertificate, toPkcs12Base64 } from '../../../devstack/certs.js';

function certsIn(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

describe('certificatePem', () => {
  it('keeps a PEM, putting the certificate that matches the key first', async () => {
    const leaf = await createPartnerCertificate('leaf');
    const other = await createPartnerCertificate('other');
    const pem = certificatePem(`${other.certPem}\n${leaf.keyPem}\n${leaf.certPem}`, 'application/x-pem-file', 'c');
    expect(pem.startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    const certs = certsIn(pem);
    expect(certs).toHaveLength(2);
    expect(new X509Certificate(certs[0] as string).fingerprint256).toBe(
      new X509Certificate(leaf.certPem).fingerprint256,
    );
  });

  it('converts a password-less PKCS#12 (as Key Vault exports it) to the same key and certificate', async () => {
    const cert = await createPartnerCertificate('p12');
    const pem = certificatePem(toPkcs12Base64(cert), 'application/x-pkcs12', 'c');
    expect(new X509Certificate(certsIn(pem)[0] as string).fingerprint256).toBe(
      new X509Certificate(cert.certPem).fingerprint256,
    );
  });

  it('refuses unusable content with CERTIFICATE_INVALID naming the certificate, never echoing the content', async () => {
    const cert = await createPartnerCertificate('bad');
    const cases = [
      cert.certPem, // no key
      `${cert.keyPem}\n`, // no certificate
      `${cert.keyPem}\n${(await createPartnerCertificate('stranger')).certPem}`, // no matching certificate
      'bm90IGEgY2VydGlmaWNhdGU=', // neither PEM nor PKCS#12
    ];
    for (const value of cases) {
      let error: unknown;
      try {
        certificatePem(value, undefined, 'partner-cert');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CollectorError);
      expect(error).toMatchObject({ code: 'CERTIFICATE_INVALID', kind: 'credential_error' });
      expect((error as Error).message).toContain("'partner-cert'");
      expect((error as Error).message).not.toContain('BEGIN');
    }
  });
});
