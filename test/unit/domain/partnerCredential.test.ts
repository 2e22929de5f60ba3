/** Expiry seen coming (design §11): degraded within 30 days of a known expiry, on a moved clock. */
import { describe, expect, it } from '@jest/globals';
import {
  credentialExpiryProblem,
  daysUntilExpiry,
  type PartnerCredentialRecord,
} from '../../../shared/domain/partnerCredential.js';

const EXPIRES = '2027-03-31T00:00:00.000Z';
const record: PartnerCredentialRecord = {
  kind: 'certificate',
  name: 'partner-cert',
  version: '0123456789abcdef0123456789abcdef',
  expiresOn: EXPIRES,
  checkedAt: '2026-11-29T00:00:00.000Z',
};
const daysBefore = (days: number) => new Date(Date.parse(EXPIRES) - days * 86_400_000);

describe('credentialExpiryProblem', () => {
  it('is silent 31 days before expiry and degraded from 30 days before, then expired', () => {
    expect(credentialExpiryProblem(record, daysBefore(31))).toBeUndefined();
    expect(credentialExpiryProblem(record, daysBefore(30))).toMatchObject({
      code: 'CREDENTIAL_EXPIRING',
      degraded: true,
    });
    expect(credentialExpiryProblem(record, daysBefore(1))?.message).toContain("certificate 'partner-cert'");
    expect(credentialExpiryProblem(record, daysBefore(0))).toMatchObject({
      code: 'CREDENTIAL_EXPIRED',
      degraded: true,
    });
  });

  it('reports a Key Vault item without expiry as a problem that alone is not degraded', () => {
    const { expiresOn: _drop, ...noExpiry } = record;
    expect(credentialExpiryProblem({ ...noExpiry, kind: 'secret' }, daysBefore(100))).toMatchObject({
      code: 'CREDENTIAL_EXPIRY_UNKNOWN',
      degraded: false,
    });
  });

  it('has nothing to say about a federated credential or the local development secret', () => {
    const { expiresOn: _drop, name: _name, ...bare } = record;
    expect(
      credentialExpiryProblem({ ...bare, kind: 'federated', version: 'federated' }, daysBefore(0)),
    ).toBeUndefined();
    expect(credentialExpiryProblem({ ...bare, kind: 'secret', version: 'static' }, daysBefore(0))).toBeUndefined();
  });

  it('counts whole days left, negative once expired', () => {
    expect(daysUntilExpiry(record, daysBefore(30))).toBe(30);
    expect(daysUntilExpiry(record, new Date(Date.parse(EXPIRES) - 3_600_000))).toBe(0);
    expect(daysUntilExpiry(record, new Date(Date.parse(EXPIRES) + 86_400_000))).toBe(-1);
  });
});
