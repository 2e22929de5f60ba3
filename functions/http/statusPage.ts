/**
 * The operator's status page (design §11 `GET /api/status`) as one server-rendered HTML document: no script, no
 * build step, styles inline, readable on a phone (tables turn into labelled cards on narrow screens). Every value
 * from storage or the request is escaped. Links keep the `code` query parameter (the function key the operator
 * opened the page with), so filtering and paging work with a key in the URL as well as in a header.
 */
import type { HealthReport } from '../../shared/usecases/health.js';
import { STATUS_PAGE_SIZE, type StatusView } from '../../shared/usecases/statusView.js';
import type { TenantAdvice } from '../../shared/usecases/tenantAdvice.js';
import type { TenantStatus } from '../../shared/ports.js';
import { TENANT_STATUSES } from '../../shared/domain/tenantState.js';
import { escapeHtml, PAGE_HEADERS, type HtmlPage } from './consentPage.js';

const STYLE = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#f6f7f9}
main{max-width:72rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.25rem 0 .5rem}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem}
.badge{display:inline-block;padding:.1rem .55rem;border-radius:.4rem;font-weight:700}
.healthy{background:#dff3e4;color:#0b5d1e}.degraded{background:#fff1cc;color:#6b4a00}.unhealthy{background:#fde0e0;color:#8a1111}
.facts{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;margin:0;padding:0;list-style:none}
.facts li{background:#fff;border:1px solid #d8dbe0;border-radius:.5rem;padding:.4rem .75rem}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #d8dbe0}
th,td{text-align:left;vertical-align:top;padding:.45rem .6rem;border-bottom:1px solid #e4e6ea}
th{background:#eef0f3;font-weight:600}
caption{text-align:left;caption-side:top;padding:.25rem 0;color:#4a4f57}
code{font:0.9em/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef0f3;padding:.05rem .3rem;border-radius:.25rem;overflow-wrap:anywhere}
.cmd{display:block;margin-top:.3rem}
.muted{color:#4a4f57}
nav ul{display:flex;flex-wrap:wrap;gap:.4rem;margin:.25rem 0 .75rem;padding:0;list-style:none}
nav a,nav span{display:inline-block;padding:.25rem .6rem;border:1px solid #c4c8ce;border-radius:.4rem;background:#fff;color:#0b4a8b}
nav [aria-current]{background:#0b4a8b;color:#fff;border-color:#0b4a8b}
a{color:#0b4a8b}
@media (max-width:40rem){
 main{padding:.6rem}
 caption{display:block}
 table,thead,tbody,tr,th,td{display:block}
 thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
 tr{border-bottom:2px solid #d8dbe0;padding:.35rem 0}
 td{border:0;padding:.2rem .6rem}
 td::before{content:attr(data-label) ": ";font-weight:600}
}
`;

/** Escaped text. */
const e = escapeHtml;

/** An ISO instant as `2026-11-30 01:02 UTC` in a `<time>` element; `—` for none. */
function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return e(iso);
  const text = new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  return `<time datetime="${e(new Date(ms).toISOString())}">${e(text)} UTC</time>`;
}

/** A coverage share as a percentage rounded down (99.95 % never shows as 100 %). */
function percent(share: number): string {
  return `${(Math.floor(share * 1000) / 10).toFixed(1)} %`;
}

/** A link to this page with `params` (and the operator's `code`, when the page was opened with one). */
function href(params: Readonly<Record<string, string | number | undefined>>, code: string | undefined): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
  if (code !== undefined) q.set('code', code);
  const s = q.toString();
  return e(s ? `?${s}` : '?');
}

function cell(label: string, html: string): string {
  return `<td data-label="${e(label)}">${html}</td>`;
}

function table(caption: string, headers: readonly string[], rows: readonly string[][]): string {
  const head = headers.map((h) => `<th scope="col">${e(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((html, i) => cell(headers[i] ?? '', html)).join('')}</tr>`).join('\n');
  return `<table><caption>${e(caption)}</caption><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function tenantCell(t: TenantAdvice): string {
  return `${e(t.displayName || t.tenantId)}<br><code>${e(t.tenantId)}</code>`;
}

function fixCell(t: TenantAdvice): string {
  const commands = t.commands.map((c) => `<code class="cmd">${e(c)}</code>`).join('');
  return `${e(t.fix)}${commands}`;
}

function adviceRows(list: readonly TenantAdvice[]): string[][] {
  return list.map((t) => [tenantCell(t), e(t.status), when(t.since), e(t.problem), fixCell(t)]);
}

const ADVICE_HEADERS = ['Tenant', 'Status', 'Since', 'State and last error', 'Fix'];

function headline(h: HealthReport): string {
  const coverage =
    h.coverage === null ? 'no collectable tenant' : `${percent(h.coverage)} of collectable tenants collected in time`;
  const run = h.lastRun
    ? `last run finished ${when(h.lastRun.finishedAt)}: ${h.lastRun.ok} ok, ${h.lastRun.failed} failed, ${h.lastRun.skipped} skipped`
    : 'no run finished yet';
  const problems = h.problems.length
    ? `<ul>${h.problems.map((p) => `<li><code>${e(p.code)}</code> ${e(p.message)}</li>`).join('')}</ul>`
    : '<p>No problems.</p>';
  return `<h1>Incident collector: <span class="badge ${e(h.status)}">${e(h.status)}</span></h1>
<ul class="facts">
<li>Checked ${when(h.checkedAt)}</li>
<li>Coverage: ${coverage}</li>
<li>${run}</li>
</ul>
<h2 id="problems">Problems</h2>
${problems}`;
}

function needsAction(view: StatusView, code: string | undefined): string {
  const { total, shown } = view.needsAction;
  const title = `<h2 id="needs-action">Tenants that need action (${total})</h2>`;
  if (total === 0) return `${title}\n<p>None: every tenant is collecting or waiting for its admin.</p>`;
  const more =
    total > shown.length
      ? `<p>${total - shown.length} more not shown: filter the list below by status (${TENANT_STATUSES.filter(
          (s) => (view.health.tenants[s] ?? 0) > 0,
        )
          .map((s) => `<a href="${href({ status: s }, code)}#all-tenants">${e(s)}</a>`)
          .join(', ')}).</p>`
      : '';
  return `${title}\n${table('Most urgent first, then longest in that state.', ADVICE_HEADERS, adviceRows(shown))}\n${more}`;
}

function statusFilter(view: StatusView, code: string | undefined): string {
  const current = view.tenants.status;
  const total = TENANT_STATUSES.reduce((n, s) => n + (view.health.tenants[s] ?? 0), 0);
  const item = (label: string, status: TenantStatus | undefined, count: number) =>
    status === current
      ? `<li><span aria-current="true">${e(label)} (${count})</span></li>`
      : `<li><a href="${href({ status }, code)}#all-tenants">${e(label)} (${count})</a></li>`;
  const items = [item('all', undefined, total)];
  for (const s of TENANT_STATUSES) {
    const n = view.health.tenants[s] ?? 0;
    if (n > 0 || s === current) items.push(item(s, s, n));
  }
  return `<nav aria-label="Filter tenants by status"><ul>${items.join('')}</ul></nav>`;
}

function pager(view: StatusView, code: string | undefined): string {
  const { page, pages, status } = view.tenants;
  if (pages <= 1) return '';
  const link = (p: number, label: string) =>
    `<li><a href="${href({ status, page: p }, code)}#all-tenants">${e(label)}</a></li>`;
  const items: string[] = [];
  if (page > 1) items.push(link(page - 1, 'Previous'));
  items.push(`<li><span aria-current="page">Page ${page} of ${pages}</span></li>`);
  if (page < pages) items.push(link(page + 1, 'Next'));
  return `<nav aria-label="Pages of tenants"><ul>${items.join('')}</ul></nav>`;
}

function allTenants(view: StatusView, code: string | undefined): string {
  const t = view.tenants;
  const which = t.status === undefined ? 'All tenants' : `Tenants with status ${t.status}`;
  const title = `<h2 id="all-tenants">${e(which)} (${t.total})</h2>`;
  if (t.total === 0) return `${title}\n${statusFilter(view, code)}\n<p>No tenants.</p>`;
  const first = (t.page - 1) * STATUS_PAGE_SIZE + 1;
  const caption = `Tenants ${first}–${first + t.rows.length - 1} of ${t.total}, those needing action first.`;
  return `${title}\n${statusFilter(view, code)}\n${table(caption, ADVICE_HEADERS, adviceRows(t.rows))}\n${pager(view, code)}`;
}

function runs(view: StatusView): string {
  const title = '<h2 id="runs">Last runs</h2>';
  if (view.runs === null) return `${title}\n<p>The Runs table could not be read.</p>`;
  if (view.runs.length === 0) return `${title}\n<p>No run in the last 7 days.</p>`;
  const rows = view.runs.map((r) => [
    `<code>${e(r.runId)}</code>`,
    e(r.trigger),
    when(r.startedAt),
    r.finishedAt ? when(r.finishedAt) : 'running',
    `${r.tenantsOk} / ${r.tenantsFailed} / ${r.tenantsSkipped} of ${r.tenantsPlanned}`,
    String(r.incidentsChanged),
    r.credentialFailure ? `<code>${e(r.credentialFailure)}</code>` : '—',
  ]);
  return `${title}\n${table('Newest first.', ['Run', 'Trigger', 'Started', 'Finished', 'OK / failed / skipped', 'Changed incidents', 'Credential refused'], rows)}`;
}

function subscriptions(view: StatusView): string {
  const title = '<h2 id="subscriptions">Subscriptions</h2>';
  const s = view.subscriptions;
  if (s.state === 'unreadable') return `${title}\n<p>The subscriptions could not be read.</p>`;
  if (s.state !== 'ok' || s.list.length === 0) return `${title}\n<p>No subscriptions.</p>`;
  const rows = s.list.map((x) => [
    `<code>${e(x.id)}</code>`,
    e(x.kind),
    x.url ? `<code>${e(x.url)}</code>` : '—',
    e(x.status),
    String(x.pending),
    String(x.deadLettered),
  ]);
  return `${title}\n${table('Backlog = events waiting to be delivered.', ['Subscription', 'Kind', 'Destination', 'Status', 'Backlog', 'Dead letters'], rows)}`;
}

/** The whole page; `code` is the function key from the request's query, carried into links. */
export function renderStatusPage(view: StatusView, options: { readonly code?: string } = {}): string {
  const code = options.code;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${e(`Incident collector status: ${view.health.status}`)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${headline(view.health)}
${needsAction(view, code)}
${allTenants(view, code)}
${runs(view)}
${subscriptions(view)}
</main>
</body>
</html>
`;
}

/** The page with its headers: 503 when health is `unhealthy` (as `/api/health`), else 200. */
export function statusPage(view: StatusView, options: { readonly code?: string } = {}): HtmlPage {
  return {
    status: view.health.status === 'unhealthy' ? 503 : 200,
    headers: PAGE_HEADERS,
    body: renderStatusPage(view, options),
  };
}
