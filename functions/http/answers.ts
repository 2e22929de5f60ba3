/**
 * Use-case answers as HTTP responses (plain HttpResponseInit objects: in native ESM the HttpResponse class cannot
 * be imported by name from the CommonJS @azure/functions package).
 */
import type { HttpResponseInit } from '@azure/functions';
import type { HtmlPage } from './consentPage.js';
import type { ApiResponse } from '../../shared/usecases/adminApi.js';

const JSON_HEADERS = { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' };

export function jsonAnswer(response: ApiResponse): HttpResponseInit {
  return { status: response.status, jsonBody: response.body, headers: JSON_HEADERS };
}

export function htmlAnswer(page: HtmlPage): HttpResponseInit {
  return { status: page.status, body: page.body, headers: { ...page.headers } };
}
