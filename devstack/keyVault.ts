/**
 * KeyVaultSim: `GET /secrets/{name}[/{version}]` behind the Key Vault bearer challenge. The first call without a
 * token gets 401 + `WWW-Authenticate` naming the Entra sim's home tenant; tokens are verified against the Entra
 * sim's key with aud https://vault.azure.net. `setSecret` adds a version (rotation); reading without a version
 * returns the newest. A certificate (`setCertificate`) is served as Key Vault serves it: through its secret
 * (`contentType` `application/x-pem-file` or `application/x-pkcs12`, `managed: true`, `kid`), and with attributes
 * (`exp`, `nbf`) under `GET /certificates/{name}[/{version}]`.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { checkBearer } from './bearer.js';
import type { EntraSim } from './entra.js';
import { VAULT_AUDIENCE } from './entra.js';
import { Prng } from './prng.js';
import { json, SimServer, type RouteContext, type SimResponse } from './simServer.js';

interface SecretVersion {
  readonly version: string;
  readonly value: string;
  readonly created: number;
  readonly contentType?: string;
  /** Unix seconds (Key Vault `attributes.exp`). */
  readonly exp?: number;
  readonly nbf?: number;
  /** True for a certificate's secret (Key Vault `managed`). */
  readonly certificate?: { readonly x5t: string; readonly cer: string };
}

/** Options of one stored version. */
export interface SecretOptions {
  readonly contentType?: string;
  readonly expiresOn?: Date;
  readonly notBefore?: Date;
}

const ROUTE = /^\/(secrets|certificates)\/([0-9a-zA-Z-]+)(?:\/([0-9a-f]{32})?)?\/?$/;

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
  setSecret(name: string, value: string, options: SecretOptions = {}): string {
    return this.addVersion(name, value, options);
  }

  /**
   * Store a new version of a certificate: `value` is what its secret holds (PEM with key and chain, or base64
   * PKCS#12 when `contentType` is `application/x-pkcs12`); `certPem` is the public leaf certificate.
   */
  setCertificate(
    name: string,
    value: string,
    certPem: string,
    options: SecretOptions & { contentType?: 'application/x-pem-file' | 'application/x-pkcs12' } = {},
  ): string {
    const cert = new X509Certificate(certPem);
    return this.addVersion(name, value, {
      contentType: options.contentType ?? 'application/x-pem-file',
      expiresOn: options.expiresOn ?? new Date(cert.validTo),
      notBefore: options.notBefore ?? new Date(cert.validFrom),
      certificate: {
        x5t: createHash('sha1').update(cert.raw).digest('base64url'),
        cer: cert.raw.toString('base64'),
      },
    });
  }

  private addVersion(
    name: string,
    value: string,
    options: SecretOptions & { certificate?: SecretVersion['certificate'] },
  ): string {
    const version = this.versions.hex(32);
    const list = this.secrets.get(name) ?? [];
    const seconds = (d: Date | undefined) => (d === undefined ? undefined : Math.floor(d.getTime() / 1000));
    const exp = seconds(options.expiresOn);
    const nbf = seconds(options.notBefore);
    list.push({
      version,
      value,
      created: Math.floor(Date.now() / 1000),
      ...(options.contentType !== undefined ? { contentType: options.contentType } : {}),
      ...(exp !== undefined ? { exp } : {}),
      ...(nbf !== undefined ? { nbf } : {}),
      ...(options.certificate !== undefined ? { certificate: options.certificate } : {}),
    });
    this.secrets.set(name, list);
    return version;
  }

  protected kindOf(_method: string, path: string): string | undefined {
    const m = ROUTE.exec(path);
    return m ? (m[1] === 'certificates' ? 'certificate' : 'secret') : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    const auth = await checkBearer(ctx.headers.authorization, this.entra.publicKey, VAULT_AUDIENCE);
    if (!auth.ok) return this.challenge(auth.reason);
    if (auth.claims.tid !== this.entra.homeTenantId)
      return json(401, { error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } });
    const m = ROUTE.exec(ctx.req.path);
    if (!m || ctx.req.method !== 'GET')
      return json(404, { error: { code: 'NotFound', message: `No route for ${ctx.req.method} ${ctx.req.path}` } });
    const [, collection, name = '', wanted] = m;
    const all = this.secrets.get(name) ?? [];
    const list = collection === 'certificates' ? all.filter((v) => v.certificate !== undefined) : all;
    const found = wanted ? list.find((v) => v.version === wanted) : list[list.length - 1];
    if (found && collection === 'certificates') {
      this.reads += 1;
      return json(200, {
        id: `${this.url}/certificates/${name}/${found.version}`,
        kid: `${this.url}/keys/${name}/${found.version}`,
        sid: `${this.url}/secrets/${name}/${found.version}`,
        x5t: found.certificate?.x5t,
        cer: found.certificate?.cer,
        attributes: this.attributes(found),
        tags: {},
      });
    }
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
      ...(found.contentType !== undefined ? { contentType: found.contentType } : {}),
      ...(found.certificate !== undefined ? { kid: `${this.url}/keys/${name}/${found.version}`, managed: true } : {}),
      attributes: this.attributes(found),
      tags: {},
    });
  }

  private attributes(found: SecretVersion): Record<string, unknown> {
    return {
      enabled: true,
      ...(found.nbf !== undefined ? { nbf: found.nbf } : {}),
      ...(found.exp !== undefined ? { exp: found.exp } : {}),
      created: found.created,
      updated: found.created,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    };
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
