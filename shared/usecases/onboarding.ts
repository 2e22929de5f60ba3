/**
 * Onboarding at scale (issue 14): consent links for many customers at once, from a CSV file, and new links for
 * pending tenants whose link expired.
 *
 * CSV: one customer per line, `tenant,displayName` — the tenant as a GUID (the link then accepts only that tenant)
 * or a domain (a sign-in hint, not enforced); the display name is optional (`parseDisplayName`'s rule: at most 256
 * characters, no control characters; not a GUID — a GUID there means swapped columns). The first line is a header and skipped only when its
 * first cell is `tenant`, `tenantId`, `tenant id` or `domain` (any case); any other invalid row is an error naming
 * its line. Blank lines are skipped; fields may be double-quoted (RFC 4180, `""` inside quotes is one quote; only
 * spaces may follow the closing quote). A GUID row is registered `pending_consent` (an existing tenant keeps its status) with
 * `consentLinkExpiresAt`; a domain row only gets a link (the callback registers the tenant that consents).
 */
import { InputError } from '../domain/errors.js';
import { parseDisplayName } from '../domain/inputLimits.js';
import { isTenantId } from '../domain/tenantId.js';
import type { TenantRecord, TenantStore } from '../ports.js';
import { createConsentLink, storedNameForLink, type ConsentLinkDeps } from './consent.js';

export interface OnboardingRow {
  /** GUID (lower-cased) or domain, as given. */
  readonly tenant: string;
  readonly displayName?: string;
}

/** One issued link (CLI `consent-link --from-csv`/`--expired` output, CSV or `--json`). */
export interface IssuedLink {
  readonly tenant: string;
  readonly displayName: string | null;
  /** The registered tenant's ID, or null for a domain row. */
  readonly tenantId: string | null;
  /** The registered tenant's status after this, or null for a domain row. */
  readonly status: string | null;
  readonly url: string;
  readonly expiresAt: string;
}

export interface OnboardingDeps {
  readonly consentLink: ConsentLinkDeps;
  readonly tenants: TenantStore;
}

const DOMAIN = /^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
/** A first line whose first cell is one of these is a header. */
const HEADER_WORD = /^(tenant|tenantid|tenant id|domain)$/i;
/** A file of links for hundreds of customers, not a data dump: refuse more rows than this. */
export const MAX_CSV_ROWS = 5000;

/**
 * Split one CSV line into fields (double quotes, `""` escapes). Returns the reason (for the error message) when a
 * quoted field is not closed or text other than spaces follows its closing quote.
 */
function fields(line: string): string[] | string {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let value = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return 'a quoted field is not closed';
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      while (i < line.length && line[i] !== ',') {
        if (line[i] !== ' ' && line[i] !== '\t')
          return `field ${out.length + 1} has text after its closing quote; quote the whole field`;
        i++;
      }
    } else {
      const end = line.indexOf(',', i);
      value = line.slice(i, end === -1 ? line.length : end);
      i = end === -1 ? line.length : end;
    }
    out.push(value.trim());
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** Parse the onboarding CSV; a bad row is a InputError naming `--from-csv` and the line number. */
export function parseOnboardingCsv(text: string): OnboardingRow[] {
  const rows: OnboardingRow[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const cells = fields(line);
    const where = `--from-csv line ${index + 1}`;
    if (typeof cells === 'string') throw new InputError('--from-csv', `${where}: ${cells}.`);
    const tenant = cells[0] ?? '';
    const valid = isTenantId(tenant) || DOMAIN.test(tenant);
    if (!valid) {
      const firstLine = rows.length === 0 && index === lines.findIndex((l) => l.trim() !== '');
      if (firstLine && HEADER_WORD.test(tenant)) continue; // header
      throw new InputError(
        '--from-csv',
        `${where}: the first column must be a tenant ID (GUID) or a domain such as contoso.onmicrosoft.com; got ${JSON.stringify(tenant.slice(0, 80))}.`,
      );
    }
    const name = cells[1];
    if (name !== undefined && isTenantId(name))
      throw new InputError(
        '--from-csv',
        `${where}: the display name (column 2) is a tenant ID; the columns are tenant,displayName — are they swapped?`,
      );
    try {
      // The rule every display name follows (inputLimits.ts), reported with the line.
      parseDisplayName(name, 'the display name (column 2)');
    } catch (error) {
      if (error instanceof InputError) throw new InputError('--from-csv', `${where}: ${error.message}`);
      throw error;
    }
    rows.push({ tenant: isTenantId(tenant) ? tenant.toLowerCase() : tenant, ...(name ? { displayName: name } : {}) });
    if (rows.length > MAX_CSV_ROWS)
      throw new InputError('--from-csv', `--from-csv holds more than ${MAX_CSV_ROWS} rows; split the file.`);
  }
  if (rows.length === 0) throw new InputError('--from-csv', '--from-csv holds no tenant rows.');
  return rows;
}

/** One link for one row; a GUID row is registered (pending_consent when new) with the link's expiry. */
async function issue(deps: OnboardingDeps, row: OnboardingRow, validDays: number | undefined): Promise<IssuedLink> {
  const link = await createConsentLink(deps.consentLink, {
    tenant: row.tenant,
    ...(row.displayName !== undefined ? { name: row.displayName } : {}),
    ...(validDays !== undefined ? { validDays } : {}),
  });
  let registered: TenantRecord | undefined;
  if (isTenantId(row.tenant)) {
    const existing = await deps.tenants.get(row.tenant);
    registered = await deps.tenants.upsert(row.tenant, {
      ...(existing
        ? {}
        : {
            status: 'pending_consent',
            statusChangedAt: deps.consentLink.clock.now().toISOString(),
            consecutiveFailures: 0,
            displayName: row.displayName ?? row.tenant,
          }),
      ...(existing && row.displayName !== undefined ? { displayName: row.displayName } : {}),
      consentLinkExpiresAt: link.expiresAt,
    });
  }
  return {
    tenant: row.tenant,
    displayName: row.displayName ?? registered?.displayName ?? null,
    tenantId: registered?.tenantId ?? null,
    status: registered?.status ?? null,
    url: link.url,
    expiresAt: link.expiresAt,
  };
}

/** `consent-link --from-csv`: one link per row, in file order. */
export async function issueLinks(
  deps: OnboardingDeps,
  rows: readonly OnboardingRow[],
  validDays?: number,
): Promise<IssuedLink[]> {
  const out: IssuedLink[] = [];
  // Sequential: each link also prunes expired states (bounded), and hundreds of rows take seconds, not minutes.
  for (const row of rows) out.push(await issue(deps, row, validDays));
  deps.consentLink.logger.info('consent.bulk_links', { count: out.length, validDays: validDays ?? 1 });
  return out;
}

/**
 * `consent-link --expired`: a new link for every `pending_consent` tenant whose link expired (or that never had
 * one recorded); the old link stays unusable. One command for the whole backlog.
 */
export async function renewExpiredLinks(deps: OnboardingDeps, validDays?: number): Promise<IssuedLink[]> {
  const now = deps.consentLink.clock.now().getTime();
  const due = (await deps.tenants.list()).filter(
    (t) =>
      t.status === 'pending_consent' &&
      (t.consentLinkExpiresAt === undefined || Date.parse(t.consentLinkExpiresAt) <= now),
  );
  return issueLinks(
    deps,
    // A name stored before display names were checked (control characters) is kept as stored, not re-sent.
    due.map((t) => ({
      tenant: t.tenantId,
      ...(storedNameForLink(t.displayName) !== undefined ? { displayName: t.displayName } : {}),
    })),
    validDays,
  );
}

/**
 * CSV text of issued links: header `tenant,displayName,tenantId,status,url,expiresAt`, fields quoted when needed. A
 * cell starting with `=`, `+`, `-` or `@` gets a leading `'` so a spreadsheet shows it as text and never runs it as
 * a formula (OWASP "CSV injection").
 */
export function linksCsv(links: readonly IssuedLink[]): string {
  const quote = (v: string | null) => {
    const raw = v ?? '';
    const s = /^[=+\-@]/.test(raw) ? `'${raw}` : raw;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [['tenant', 'displayName', 'tenantId', 'status', 'url', 'expiresAt'].join(',')];
  for (const l of links)
    lines.push([l.tenant, l.displayName, l.tenantId, l.status, l.url, l.expiresAt].map(quote).join(','));
  return `${lines.join('\n')}\n`;
}
