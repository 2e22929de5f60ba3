/** The consent link (issue 10 §5): the shared display-name limits, HTTP 400 naming the field, nothing stored. */
import { describe, expect, it } from '@jest/globals';
import { apiErrorResponse, type ApiResponse } from '../../../functions/http/answers.js';
import { createConsentLink, type ConsentLinkDeps } from '../../../shared/usecases/consent.js';

/** What `GET /api/consent/link?name=` answers: the use case, its errors through the one HTTP mapping. */
async function consentLinkApi(deps: ConsentLinkDeps, query: { name: string }): Promise<ApiResponse> {
  try {
    const link = await createConsentLink(deps, query);
    return { status: 200, body: link };
  } catch (error) {
    return apiErrorResponse(error, deps.logger, 'consent_link');
  }
}

function deps(saved: string[]): ConsentLinkDeps {
  return {
    consentStates: {
      save: async (_state, record) => void saved.push(record.displayName ?? ''),
      consume: async () => undefined,
      deleteExpired: async () => 0,
    },
    clock: { now: () => new Date('2026-06-01T12:00:00Z') },
    authorityHost: 'https://login.example',
    clientId: '3e000000-0000-4000-8000-000000000001',
    scope: 'https://graph.example/.default',
    redirectUri: 'https://app.example/api/consent/callback',
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  };
}

describe('GET /api/consent/link name limits', () => {
  it.each([
    ['257 characters', 'n'.repeat(257), 'name must be at most 256 characters; got 257.'],
    ['a line break', 'Contoso\nInjected', 'name must not contain control characters (line breaks, tabs, escapes).'],
  ])('refuses a name with %s: 400 INVALID_NAME, nothing stored', async (_what, name, message) => {
    const saved: string[] = [];
    const response = await consentLinkApi(deps(saved), { name });
    expect(response).toEqual({ status: 400, body: { error: { code: 'INVALID_NAME', message } } });
    expect(saved).toEqual([]);
  });

  it('accepts 256 characters, trimmed, like tenants add', async () => {
    const saved: string[] = [];
    const response = await consentLinkApi(deps(saved), { name: `  ${'n'.repeat(256)} ` });
    expect(response.status).toBe(200);
    expect(saved).toEqual(['n'.repeat(256)]);
  });
});
