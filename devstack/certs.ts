/**
 * The simulators' certificate chain, generated at run time: one CA (2048-bit RSA, SHA-256) signing one server
 * certificate for IP:127.0.0.1 and DNS:localhost. Nothing is stored in the repository, so nothing can leak.
 */
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';
import { generate } from 'selfsigned';

export interface SimCertificates {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const DAY_MS = 86_400_000;

async function createCa(notBeforeDate: Date, notAfterDate: Date): Promise<{ cert: string; key: string }> {
  // A unique subject per CA: OpenSSL finds an issuer by subject name, so two stacks trusted in one process
  // with the same CA name would verify against the wrong key ("certificate signature failure").
  const ca = await generate(
    [{ name: 'commonName', value: `Incident Collector Simulator CA ${randomBytes(6).toString('hex')}` }],
    {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
  );
  return { cert: ca.cert, key: ca.private };
}

/** Create a CA and a 127.0.0.1/localhost server certificate it signs. */
export async function createSimCertificates(): Promise<SimCertificates> {
  // Back-date a little so a host clock a few minutes behind still accepts the chain.
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const notAfterDate = new Date(Date.now() + 30 * DAY_MS);
  const ca = await createCa(notBeforeDate, notAfterDate);
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.key, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { caPem: ca.cert, certPem: server.cert, keyPem: server.private };
}

/** A partner app certificate: the self-signed leaf, its private key, and both in one PEM as Key Vault stores it. */
export interface PartnerCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** Private key then certificate (Key Vault `application/x-pem-file`). */
  readonly pem: string;
}

/** A self-signed 2048-bit RSA certificate for the partner app, valid from a day ago for `days` days. */
export async function createPartnerCertificate(
  commonName = 'incident-collector',
  days = 365,
): Promise<PartnerCertificate> {
  const notBeforeDate = new Date(Date.now() - DAY_MS);
  const notAfterDate = new Date(Date.now() + days * DAY_MS);
  const cert = await generate([{ name: 'commonName', value: `${commonName} ${randomBytes(4).toString('hex')}` }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
    ],
  });
  return { certPem: cert.cert, keyPem: cert.private, pem: `${cert.private}\n${cert.cert}\n` };
}

/** The certificate as a password-less PKCS#12, base64 (Key Vault `application/x-pkcs12`). */
export function toPkcs12Base64(certificate: PartnerCertificate): string {
  const key = forge.pki.privateKeyFromPem(certificate.keyPem);
  const cert = forge.pki.certificateFromPem(certificate.certPem);
  // An empty password, as Key Vault exports it (the MAC is computed over it).
  const p12 = forge.pkcs12.toPkcs12Asn1(key, [cert], '', { algorithm: '3des' });
  return forge.util.encode64(forge.asn1.toDer(p12).getBytes());
}
