/**
 * KeyVaultSim: `GET /secrets/{name}[/{version}]` behind the Key Vault bearer challenge. The first call without a
 * token gets 401 + `WWW-Authenticate` naming the Entra sim's home tenant; tokens are verified against the Entra
 * sim's key with aud https://vault.azure.net. `setSecret` adds a version (rotation); reading without a version
 * returns the newest.
 */
import { checkBearer } from './bearer.js';
import type { EntraSim } from './entra.js';
import { VAULT_AUDIENCE } from './entra.js';
import { Prng } from './prng.js';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';

interface SecretVersion {
  readonly version: string;
  readonly value: string;
  readonly created: number;
}

const ROUTE = /^\/secrets\/([0-9a-zA-Z-]+)(?:\/([0-9a-f]{32})?)?\/?$/;

export class KeyVaultSim extends SimServer {
  /** Successful secret reads (200 answers). */
  reads = 0;
  private readonly secrets = new Map<string, SecretVersion[]>();
  private readonly versions: Prng;

  constructor(
    private readonly entra: EntraSim,
    seed = 'vault',
  ) {
    super();
    this.versions = new Prng(`${seed}:versions`);
  }

  /** Store a new version of the secret (the newest is what a version-less read returns). */
  setSecret(name: string, value: string): string {
    const version = this.versions.hex(32);
    const list = this.secrets.get(name) ?? [];
    list.push({ version, value, created: Math.floor(Date.now() / 1000) });
    this.secrets.set(name, list);
    return version;
  }

  protected kindOf(_method: string, path: string): string | undefined {
    return ROUTE.test(path) ? 'secret' : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    const auth = await checkBearer(ctx.headers.authorization, this.entra.publicKey, VAULT_AUDIENCE);
    if (!auth.ok) return this.challenge(auth.reason);
    if (auth.claims.tid !== this.entra.homeTenantId)
      return json(401, { error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } });
    const m = ROUTE.exec(ctx.req.path);
    if (!m || ctx.req.method !== 'GET')
      return json(404, { error: { code: 'NotFound', message: `No route for ${ctx.req.method} ${ctx.req.path}` } });
    const [, name = '', wanted] = m;
    const list = this.secrets.get(name) ?? [];
    const found = wanted ? list.find((v) => v.version === wanted) : list[list.length - 1];
    if (!found) {
      return json(404, {
        error: {
          code: 'SecretNotFound',
          message: `A secret with (name/id) ${name}${wanted ? `/${wanted}` : ''} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
        },
      });
    }
    this.reads += 1;
    return json(200, {
      value: found.value,
      id: `${this.url}/secrets/${name}/${found.version}`,
      attributes: {
        enabled: true,
        created: found.created,
        updated: found.created,
        recoveryLevel: 'Recoverable+Purgeable',
        recoverableDays: 90,
      },
      tags: {},
    });
  }

  private challenge(reason: string): SimResponse {
    const message =
      reason === 'missing'
        ? 'AKV10000: Request is missing a Bearer or PoP token.'
        : `AKV10022: Invalid audience or token (${reason}).`;
    return json(
      401,
      { error: { code: 'Unauthorized', message } },
      {
        'www-authenticate': `Bearer authorization="${this.entra.url}/${this.entra.homeTenantId}", resource="${VAULT_AUDIENCE}"`,
      },
    );
  }
}
