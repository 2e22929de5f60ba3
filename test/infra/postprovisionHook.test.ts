/**
 * The azd postprovision hook (issue 13) against a stub `az` on PATH: the dry run reads only and names every change
 * it would make; an up-to-date registration needs nothing; a real run makes exactly the planned writes; a missing
 * azd output stops it naming the value.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';

const HOOK = path.resolve('infra/hooks/postprovision.sh');
const APP = '99999999-8888-7777-6666-555555555555';
const PRINCIPAL = 'abcdef01-2222-3333-4444-555555555555';
const ISSUER = 'https://login.microsoftonline.com/77777777-6666-5555-4444-333333333333/v2.0';
const REDIRECT = 'https://func-abc.azurewebsites.net/api/consent/callback';
const GRAPH_ROLE = '11111111-0000-0000-0000-00000000aaaa';
const LEGACY_ROLE = '22222222-0000-0000-0000-00000000bbbb';

// Reads answer from STUB_* variables; writes are logged, and refused unless STUB_ALLOW_WRITES=1.
const STUB = `#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$AZ_LOG"
case "$*" in
  "ad app show --id "*" --query appId -o tsv")
    if [[ -n "$STUB_APP_EXISTS" ]]; then echo "$PARTNER_CLIENT_ID"
    elif [[ -n "$STUB_SHOW_ERROR" ]]; then echo "$STUB_SHOW_ERROR" >&2; exit 1
    else echo "ERROR: Resource '$PARTNER_CLIENT_ID' does not exist or one of its queried reference-property objects are not present. (Request_ResourceNotFound)" >&2; exit 3; fi ;;
  *"--query signInAudience -o tsv") echo "$STUB_AUDIENCE" ;;
  *"--query web.redirectUris -o tsv") printf '%s' "$STUB_REDIRECTS" ;;
  "ad sp show --id 00000003-0000-0000-c000-000000000000 "*) echo "${GRAPH_ROLE}" ;;
  "ad sp show --id 8ee8fdad-f234-4243-8f3b-15c294843740 "*) echo "${LEGACY_ROLE}" ;;
  *"requiredResourceAccess"*) printf '%s' "$STUB_HELD" ;;
  "ad app federated-credential list "*) printf '%s' "$STUB_FIC" ;;
  *) if [[ "$STUB_ALLOW_WRITES" == "1" ]]; then echo "{}"; else echo "unexpected write: $*" >&2; exit 9; fi ;;
esac
`;

interface HookRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly calls: string[];
}

describe('infra/hooks/postprovision.sh', () => {
  let dir: string;
  let n = 0;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'az-stub-'));
    writeFileSync(path.join(dir, 'az'), STUB);
    chmodSync(path.join(dir, 'az'), 0o755);
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const outputs = {
    PARTNER_CLIENT_ID: APP,
    CONSENT_REDIRECT_URI: REDIRECT,
    PARTNER_CREDENTIAL: 'federated',
    INCIDENT_SOURCE: 'graph',
    FEDERATED_ISSUER: ISSUER,
    MANAGED_IDENTITY_PRINCIPAL_ID: PRINCIPAL,
    TOKEN_EXCHANGE_AUDIENCE: 'api://AzureADTokenExchange',
  };
  const fresh = {
    STUB_APP_EXISTS: '1',
    STUB_AUDIENCE: 'AzureADMyOrg',
    STUB_REDIRECTS: 'https://old.example.com/cb\n',
    STUB_HELD: '',
    STUB_FIC: '',
  };
  const upToDate = {
    STUB_APP_EXISTS: '1',
    STUB_AUDIENCE: 'AzureADMultipleOrgs',
    STUB_REDIRECTS: `https://old.example.com/cb\n${REDIRECT}\n`,
    STUB_HELD: `${GRAPH_ROLE}\n`,
    STUB_FIC: `collector-abcdef01\tapi://AzureADTokenExchange\n`,
  };

  function run(env: Record<string, string>, args: string[] = []): HookRun {
    const log = path.join(dir, `calls-${++n}.log`);
    writeFileSync(log, '');
    const r = spawnSync('bash', [HOOK, ...args], {
      env: { PATH: `${dir}:${process.env.PATH ?? ''}`, AZ_LOG: log, ...env },
      encoding: 'utf8',
    });
    const calls = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
  }

  const writes = (calls: string[]) =>
    calls.filter((c) => / (create|update|add)( |$)/.test(c) && !c.startsWith('ad app show'));

  it('dry run: reads only, and names every change a fresh registration needs', () => {
    const r = run({ ...outputs, ...fresh }, ['--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(writes(r.calls)).toEqual([]);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('would: '))).toEqual([
      'would: make the app multi-tenant (signInAudience AzureADMyOrg -> AzureADMultipleOrgs)',
      `would: add the redirect URI ${REDIRECT}`,
      'would: add the application permission SecurityIncident.Read.All (00000003-0000-0000-c000-000000000000)',
      `would: add the federated credential collector-abcdef01 (issuer ${ISSUER}, subject ${PRINCIPAL}, audience api://AzureADTokenExchange)`,
    ]);
    expect(r.stdout).toContain('dry run, 4 change(s) not made');
  });

  it('POSTPROVISION_DRY_RUN=1 is the same dry run; m365d also asks for the legacy permission', () => {
    const r = run({ ...outputs, ...upToDate, INCIDENT_SOURCE: 'm365d', POSTPROVISION_DRY_RUN: '1' });
    expect(r.status).toBe(0);
    expect(writes(r.calls)).toEqual([]);
    expect(r.stdout).toContain(
      'would: add the application permission Incident.Read.All (8ee8fdad-f234-4243-8f3b-15c294843740)',
    );
    expect(r.stdout).toContain('dry run, 1 change(s) not made');
  });

  it('an up-to-date registration needs nothing, even without dry run (idempotent)', () => {
    const r = run({ ...outputs, ...upToDate });
    expect(r.status).toBe(0);
    expect(writes(r.calls)).toEqual([]);
    expect(r.stdout).toContain('nothing to change');
  });

  it('a real run makes exactly the planned writes, keeping the existing redirect URI', () => {
    const r = run({ ...outputs, ...fresh, STUB_ALLOW_WRITES: '1' });
    expect(r.status).toBe(0);
    const made = writes(r.calls);
    expect(made).toHaveLength(4);
    expect(made[0]).toBe(`ad app update --id ${APP} --sign-in-audience AzureADMultipleOrgs`);
    expect(made[1]).toBe(`ad app update --id ${APP} --web-redirect-uris https://old.example.com/cb ${REDIRECT}`);
    expect(made[2]).toBe(
      `ad app permission add --id ${APP} --api 00000003-0000-0000-c000-000000000000 --api-permissions ${GRAPH_ROLE}=Role`,
    );
    expect(made[3]).toMatch(new RegExp(`^ad app federated-credential create --id ${APP} --parameters \\{`));
    const parameters = JSON.parse(made[3]!.slice(made[3]!.indexOf('{'))) as Record<string, unknown>;
    expect(parameters).toMatchObject({
      issuer: ISSUER,
      subject: PRINCIPAL,
      audiences: ['api://AzureADTokenExchange'],
    });
  });

  it('a federated credential with another audience is updated in place, under its own name', () => {
    const r = run(
      {
        ...outputs,
        ...upToDate,
        TOKEN_EXCHANGE_AUDIENCE: 'api://AzureADTokenExchangeUSGov',
        STUB_FIC: 'mine\tapi://AzureADTokenExchange\n',
      },
      ['--dry-run'],
    );
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'would: set the audience of federated credential mine to api://AzureADTokenExchangeUSGov (was api://AzureADTokenExchange)',
    );
  });

  it('a failing app show (expired login) stops the hook with the az error: no second app, PARTNER_CLIENT_ID kept', () => {
    const login = "ERROR: AADSTS700082: The refresh token has expired due to inactivity. Please run 'az login'.";
    for (const args of [[], ['--dry-run']]) {
      const r = run(
        { ...outputs, ...fresh, STUB_APP_EXISTS: '', STUB_SHOW_ERROR: login, STUB_ALLOW_WRITES: '1' },
        args,
      );
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('AADSTS700082');
      expect(r.calls.filter((c) => c.startsWith('ad app create'))).toEqual([]);
      expect(writes(r.calls)).toEqual([]);
      expect(r.stdout).not.toContain('create');
    }
  });

  it('a PARTNER_CLIENT_ID that does not exist is named, never replaced by a new app', () => {
    const r = run({ ...outputs, ...fresh, STUB_APP_EXISTS: '', STUB_ALLOW_WRITES: '1' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`PARTNER_CLIENT_ID ${APP} does not exist`);
    expect(writes(r.calls)).toEqual([]);
  });

  it('without PARTNER_CLIENT_ID a dry run plans the new app and reads nothing of it (bash 3.2: no mapfile)', () => {
    const r = run({ ...outputs, ...fresh, PARTNER_CLIENT_ID: '' }, ['--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("would: create the multi-tenant app registration 'Defender Incident Collector'");
    expect(r.calls.filter((c) => c.startsWith('ad app show'))).toEqual([]);
    expect(readFileSync(HOOK, 'utf8')).not.toMatch(/\bmapfile\b|\breadarray\b/);
  });

  it('certificate mode registers no federated credential; a missing azd output is named', () => {
    const cert = run({ ...outputs, ...upToDate, PARTNER_CREDENTIAL: 'certificate', STUB_FIC: '' }, ['--dry-run']);
    expect(cert.stdout).toContain('nothing to change');
    expect(cert.calls.some((c) => c.startsWith('ad app federated-credential'))).toBe(false);
    const { CONSENT_REDIRECT_URI: _omit, ...rest } = outputs;
    const missing = run({ ...rest, ...upToDate }, ['--dry-run']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('CONSENT_REDIRECT_URI is not set');
  });
});
