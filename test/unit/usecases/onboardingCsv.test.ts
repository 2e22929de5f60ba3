/**
 * `consent-link --from-csv` parsing and the links CSV (issue 14 review): a header is skipped only when it looks like
 * one, text after a closing quote and swapped columns are errors, display names are cleaned like the other display
 * names, and output cells cannot start a spreadsheet formula.
 */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../../../shared/domain/errors.js';
import {
  linksCsv,
  parseOnboardingCsv,
  renewExpiredLinks,
  type IssuedLink,
} from '../../../shared/usecases/onboarding.js';
import { fakeWorld } from '../../fakes/index.js';

const G1 = '0a1b2c3d-0000-4000-8000-0000000000c1';
const G2 = '0a1b2c3d-0000-4000-8000-0000000000c2';

function errorOf(text: string): InputError {
  try {
    parseOnboardingCsv(text);
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('parseOnboardingCsv accepted the text');
}

describe('parseOnboardingCsv', () => {
  it.each(['tenant,displayName', 'TenantId,name', 'Tenant ID,Name', 'domain,displayName'])(
    'skips the header line %j',
    (header) => {
      expect(parseOnboardingCsv(`${header}\n${G1},Contoso\n`)).toEqual([{ tenant: G1, displayName: 'Contoso' }]);
    },
  );

  it('an invalid first row that is not a header word is an error naming line 1 (not silently dropped)', () => {
    const e = errorOf(`not-a-guid,Contoso\n${G1},Fabrikam\n`);
    expect(e.field).toBe('--from-csv');
    expect(e.message).toMatch(/line 1: the first column/);
  });

  it('text after a closing quote is an error naming the line and field; spaces are fine', () => {
    expect(errorOf(`${G1},Contoso\n"${G2}"garbage,Fabrikam\n`).message).toMatch(
      /line 2: field 1 has text after its closing quote/,
    );
    expect(parseOnboardingCsv(`"${G1}"  ,"Contoso, Ltd"\n`)).toEqual([{ tenant: G1, displayName: 'Contoso, Ltd' }]);
  });

  it('a GUID in the name column (swapped columns) is an error naming the line and column', () => {
    expect(errorOf(`${G1},Contoso\ncontoso.com,${G2}\n`).message).toMatch(/line 2: the display name \(column 2\)/);
  });

  it.each([
    ['a line break inside quotes', `${G1},"Con\rtoso"`],
    ['a tab', `${G1},Con\ttoso`],
    ['a NUL', `${G1},Con\u0000toso`],
    ['an escape', `${G1},\u001b[31mContoso`],
    ['257 characters', `${G1},${'x'.repeat(257)}`],
  ])('a display name with %s is an error naming the line and the display name', (_what, line) => {
    const e = errorOf(`tenant,displayName\n${line}\n`);
    expect(e.field).toBe('--from-csv');
    expect(e.message).toMatch(/line 2: the display name \(column 2\)/);
  });

  it('256 characters and ordinary punctuation are accepted', () => {
    expect(parseOnboardingCsv(`${G1},${'x'.repeat(256)}\n${G2},"O'Brien & Co. (EU)"\n`)).toHaveLength(2);
  });
});

describe('linksCsv', () => {
  const link = (displayName: string): IssuedLink => ({
    tenant: G1,
    displayName,
    tenantId: G1,
    status: 'pending_consent',
    url: 'https://login.example/x',
    expiresAt: '2026-12-01T00:00:00.000Z',
  });

  it.each(['=HYPERLINK("http://evil")', '+1', '-2+3', '@SUM(A1)'])('prefixes %j with a quote', (name) => {
    const line = linksCsv([link(name)]).split('\n')[1] ?? '';
    const cell = line.split(',')[1] ?? '';
    expect(cell.replace(/^"/, '').startsWith(`'${name[0]}`)).toBe(true);
  });

  it('leaves ordinary names alone', () => {
    expect(linksCsv([link('Contoso')]).split('\n')[1]).toBe(
      `${G1},Contoso,${G1},pending_consent,https://login.example/x,2026-12-01T00:00:00.000Z`,
    );
  });
});

describe('renewExpiredLinks', () => {
  it('a name stored before names were checked (a line break) does not stop the renewal and is kept as stored', async () => {
    const w = fakeWorld();
    w.tenants.seed({ tenantId: G1, displayName: 'Con\ntoso', status: 'pending_consent', consecutiveFailures: 0 });
    const consentLink = {
      consentStates: w.consentStates,
      clock: w.clock,
      authorityHost: 'https://login.example',
      clientId: 'client',
      scope: 'graph/.default',
      redirectUri: 'https://app.example/api/consent/callback',
      logger: w.logger,
    };

    const links = await renewExpiredLinks({ consentLink, tenants: w.tenants });

    expect(links).toHaveLength(1);
    expect((await w.tenants.get(G1))?.displayName).toBe('Con\ntoso');
  });
});
