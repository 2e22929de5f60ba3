/**
 * The small HTML pages the consent callback answers with. The reader is the customer's administrator, who just
 * came back from Microsoft's consent screen: each page says what happened and what to do next. Every value that
 * came from the request (error codes, descriptions, tenant IDs) or from storage (display names) is escaped, and
 * the headers forbid scripts, framing-free sniffing, caching and referrers (the URL carries the state).
 */
import { ensureError } from '../../shared/domain/errors.js';
import {
  completeConsent,
  type ConsentCallbackDeps,
  type ConsentCallbackQuery,
  type ConsentOutcome,
  type ConsentReason,
} from '../../shared/usecases/consent.js';
import { ErrorCode } from '../../shared/domain/errorCodes.js';

export interface HtmlPage {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/html; charset=utf-8',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
});

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** Text with `{name}` placeholders filled with escaped values (the template itself is trusted). */
function fill(template: string, values: Readonly<Record<string, string | undefined>>): string {
  return escapeHtml(template).replace(/\{(\w+)\}/g, (_m, key: string) => escapeHtml(values[key] ?? ''));
}

interface PageText {
  readonly title: string;
  readonly what: string;
  readonly todo: string;
}

const NEW_LINK =
  'Ask your service provider for a new consent link and open it while signed in as an administrator of your organisation.';

const FAILURES: Readonly<Record<ConsentReason, PageText>> = {
  missing_state: {
    title: 'This page needs a consent link',
    what: 'The page was opened without the information that ties it to a consent link, so nothing was registered.',
    todo: NEW_LINK,
  },
  invalid_state: {
    title: 'This consent link is not valid',
    what: 'The link is unknown or has already been used (each link works once), so nothing was registered.',
    todo: NEW_LINK,
  },
  expired_state: {
    title: 'This consent link has expired',
    what: 'Consent links are valid for 24 hours. This one is older, so nothing was registered.',
    todo: NEW_LINK,
  },
  consent_error: {
    title: 'Consent was not granted',
    what: 'Microsoft Entra ID reported: {code}. {description} Nothing was registered.',
    todo: 'If this was not intended, ask your service provider for a new consent link and accept the requested permissions. Granting application permissions needs a Global Administrator or Privileged Role Administrator.',
  },
  invalid_tenant: {
    title: 'Your organisation could not be identified',
    what: 'Microsoft Entra ID did not return a valid tenant ID, so nothing was registered.',
    todo: NEW_LINK,
  },
  tenant_mismatch: {
    title: 'This link was made for another organisation',
    what: 'You signed in to tenant {tenantId}, but the link was created for a different tenant. Nothing was registered.',
    todo: 'Sign in with an administrator account of the organisation the link was made for, or ask your service provider for a link for tenant {tenantId}.',
  },
  verification_failed: {
    title: 'Consent could not be verified',
    what: 'Consent was given, but signing in to tenant {tenantId} as the application failed ({code}). Nothing was registered.',
    todo: 'Permissions can take a few minutes to reach every Microsoft data centre. Wait five minutes, then ask your service provider for a new consent link and try again. If it fails again, give them the code above.',
  },
  missing_permissions: {
    title: 'A required permission is missing',
    what: 'The application was consented in tenant {tenantId}, but it cannot read security incidents ({code}). Nothing was registered.',
    todo: 'Make sure the incident read permission was accepted (Enterprise applications → the app → Permissions → Grant admin consent), then ask your service provider for a new consent link.',
  },
  source_retired: {
    title: 'Your consent was received, but it cannot be used yet',
    what: 'Your service provider still collects tenant {tenantId} through a Microsoft API that has been retired ({code}). Nothing was changed.',
    todo: 'Tell your service provider the code above: they need to move your organisation to Microsoft Graph and send you a new consent link.',
  },
  temporarily_unavailable: {
    title: 'Please try again in a few minutes',
    what: 'Your consent was received, but the service could not verify it just now ({code}). Nothing was registered yet.',
    todo: 'Wait a few minutes, then ask your service provider for a new consent link (each link works once) and open it again.',
  },
};

function layout(title: string, paragraphs: readonly string[]): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${title}</title>`,
    '<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1b1b1b}h1{font-size:1.4rem}</style>',
    '</head><body>',
    `<h1>${title}</h1>`,
    ...paragraphs.map((p) => `<p>${p}</p>`),
    '</body></html>',
    '',
  ].join('\n');
}

function successPage(outcome: Extract<ConsentOutcome, { ok: true }>): HtmlPage {
  const values = { name: outcome.tenant.displayName, tenantId: outcome.tenant.tenantId };
  const disabled = outcome.tenant.status === 'disabled';
  const paragraphs = [
    fill(
      outcome.reconsented
        ? 'Consent for {name} (tenant {tenantId}) was renewed.'
        : 'Consent for {name} (tenant {tenantId}) was recorded and verified.',
      values,
    ),
    disabled
      ? fill('Collection for this tenant is paused by your service provider; they can resume it at any time.', values)
      : fill(
          'Your service provider will start collecting your Microsoft Defender incidents within the hour. You can close this page.',
          values,
        ),
    // Plain words for the customer's administrator: what was granted, and how to take it back.
    'What your service provider can now read: the security incidents of your Microsoft Defender portal (with their alerts), read-only. It cannot change incidents, devices, users, mail or settings, and it cannot read anything else in your tenant.',
    'How to revoke it: in the Microsoft Entra admin center, open Enterprise applications, select this application, and delete it (or remove its permission under Permissions). Collection stops at once.',
  ];
  return { status: 200, headers: PAGE_HEADERS, body: layout(escapeHtml('Consent complete'), paragraphs) };
}

/** The page for a consent outcome (status and headers included). */
export function renderConsentPage(outcome: ConsentOutcome): HtmlPage {
  if (outcome.ok) return successPage(outcome);
  const text = FAILURES[outcome.reason];
  const values = {
    code: outcome.detail?.code ?? 'unknown',
    description: outcome.detail?.description ?? '',
    tenantId: outcome.detail?.tenantId ?? '',
  };
  return {
    status: outcome.status,
    headers: PAGE_HEADERS,
    body: layout(escapeHtml(text.title), [fill(text.what, values), fill(text.todo, values)]),
  };
}

/** Any method but GET: 405, with the same protective headers. */
export function methodNotAllowedPage(): HtmlPage {
  return {
    status: 405,
    headers: { ...PAGE_HEADERS, Allow: 'GET' },
    body: layout(escapeHtml('Method not allowed'), [escapeHtml('Open the consent link in a browser.')]),
  };
}

/**
 * The whole callback: only GET; the outcome of completeConsent as a page. Our own outage (storage) is a 503 page,
 * never a stack trace.
 */
export async function answerConsentCallback(
  deps: ConsentCallbackDeps,
  method: string,
  query: ConsentCallbackQuery,
): Promise<HtmlPage> {
  if (method.toUpperCase() !== 'GET') return methodNotAllowedPage();
  try {
    return renderConsentPage(await completeConsent(deps, query));
  } catch (error) {
    deps.logger.error('consent.callback_failed', { message: ensureError(error).message });
    return renderConsentPage({
      ok: false,
      status: 503,
      reason: 'temporarily_unavailable',
      detail: { code: ErrorCode.SERVICE_UNAVAILABLE },
    });
  }
}
