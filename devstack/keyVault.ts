/**
 * KeyVaultSim: `GET /secrets/{name}[/{version}]` behind the Key Vault bearer challenge. The first call without a
 * token gets 401 + `WWW-Authenticate` naming the Entra sim's home tenant; tokens are verified against the Entra
 * sim's key with aud https://vault.azure.net. `setSecret` adds a version (rotation); reading without a version
 * returns the newest. A certificate (`setCertificate`) is served as Key Vault serves it: through its secret
 * (`contentType` `application/x-pem-file` or `application/x-pkcs12`, `managed: true`, `kid`), and with attributes
 * (`exp`, `nbf`) under `GET /certificates/{name}[/{version}]`.
 * Writes, as the SecretClient sends them: `PUT /secrets/{name}` (a new version), `DELETE /secrets/{name}` (soft
 * delete: the secret moves to `/deletedsecrets/{name}`, readable there until purged), `DELETE /deletedsecrets/{name}`
 * (purge: 403 when the vault has purge protection). Only the identities in `writers` (client IDs, the token's
 * `appid`: Key Vault Secrets Officer on this vault) may write; every other caller gets 403 `ForbiddenByRbac`.
 * Writing a name that is deleted but not purged answers 409 `ObjectIsDeletedButRecoverable`, as Key Vault does.
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
const DELETED_ROUTE = /^\/deletedsecrets\/([0-9a-zA-Z-]+)\/?$/;

/** Options of one simulated vault. */
export interface KeyVaultSimOptions {
  /** Client IDs allowed to write secrets (Key Vault Secrets Officer); default none: the vault is read-only. */
  readonly writers?: readonly string[];
  /** Purge protection: a deleted secret cannot be purged (default false). */
  readonly purgeProtection?: boolean;
}

interface DeletedSecret {
  readonly versions: SecretVersion[];
  readonly deletedDate: number;
}

export class KeyVaultSim extends SimServer {
  /** Successful secret reads (200 answers). */
  reads = 0;
  private readonly secrets = new Map<string, SecretVersion[]>();
  private readonly deleted = new Map<string, DeletedSecret>();
  private readonly versions: Prng;
  private readonly writers: Set<string>;
  /** Purge protection of the vault (a test may turn it off to see the purge happen). */
  purgeProtection: boolean;

  constructor(
    private readonly entra: EntraSim,
    seed = 'vault',
    options: KeyVaultSimOptions = {},
  ) {
    super();
    this.versions = new Prng(`${seed}:versions`);
    this.writers = new Set((options.writers ?? []).map((w) => w.toLowerCase()));
    this.purgeProtection = options.purgeProtection ?? false;
  }

  /** Let this client ID write secrets (a role assignment of Key Vault Secrets Officer). */
  allowWriter(clientId: string): void {
    this.writers.add(clientId.toLowerCase());
  }

  /** The current value of a secret (newest version), or undefined when absent or deleted. */
  secretValue(name: string): string | undefined {
    const list = this.secrets.get(name.toLowerCase());
    return list?.[list.length - 1]?.value;
  }

  /** True while a deleted secret is recoverable (soft-deleted, not purged). */
  isDeleted(name: string): boolean {
    return this.deleted.has(name.toLowerCase());
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
    const list = this.secrets.get(name.toLowerCase()) ?? [];
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
    this.secrets.set(name.toLowerCase(), list);
    return version;
  }

  protected kindOf(_method: string, path: string): string | undefined {
    if (DELETED_ROUTE.test(path)) return 'deletedsecret';
    const m = ROUTE.exec(path);
    return m ? (m[1] === 'certificates' ? 'certificate' : 'secret') : undefined;
  }

  protected async route(ctx: RouteContext): Promise<SimResponse> {
    const auth = await checkBearer(ctx.headers.authorization, this.entra.publicKey, VAULT_AUDIENCE);
    if (!auth.ok) return this.challenge(auth.reason);
    if (auth.claims.tid !== this.entra.homeTenantId)
      return json(401, { error: { code: 'Unauthorized', message: 'AKV10032: Invalid issuer.' } });
    const deletedRoute = DELETED_ROUTE.exec(ctx.req.path);
    if (deletedRoute) return this.deletedSecret(ctx, (deletedRoute[1] ?? '').toLowerCase(), auth.claims.appid);
    const m = ROUTE.exec(ctx.req.path);
    if (m && m[1] === 'secrets' && m[3] === undefined && (ctx.req.method === 'PUT' || ctx.req.method === 'DELETE')) {
      const refused = this.refuseWrite(auth.claims.appid, ctx.req.method === 'PUT' ? 'set' : 'delete');
      if (refused) return refused;
      const name = m[2] ?? '';
      return ctx.req.method === 'PUT' ? this.putSecret(name, ctx.body) : this.deleteSecret(name);
    }
    if (!m || ctx.req.method !== 'GET')
      return json(404, { error: { code: 'NotFound', message: `No route for ${ctx.req.method} ${ctx.req.path}` } });
    const [, collection, name = '', wanted] = m;
    const all = this.secrets.get(name.toLowerCase()) ?? [];
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

  private refuseWrite(appid: unknown, action: string): SimResponse | undefined {
    if (typeof appid === 'string' && this.writers.has(appid.toLowerCase())) return undefined;
    return json(403, {
      error: {
        code: 'Forbidden',
        message: `Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/${action}/action'`,
        innererror: { code: 'ForbiddenByRbac' },
      },
    });
  }

  private putSecret(name: string, body: string): SimResponse {
    const key = name.toLowerCase();
    if (this.deleted.has(key))
      return json(409, {
        error: {
          code: 'Conflict',
          message: `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          innererror: { code: 'ObjectIsDeletedButRecoverable' },
        },
      });
    let parsed: { value?: unknown; contentType?: unknown };
    try {
      parsed = JSON.parse(body) as { value?: unknown; contentType?: unknown };
    } catch {
      return json(400, { error: { code: 'BadParameter', message: 'The request body is not JSON.' } });
    }
    if (typeof parsed.value !== 'string')
      return json(400, { error: { code: 'BadParameter', message: 'Property value is required.' } });
    const version = this.addVersion(name, parsed.value, {
      ...(typeof parsed.contentType === 'string' ? { contentType: parsed.contentType } : {}),
    });
    const found = this.secrets.get(key)?.find((v) => v.version === version) as SecretVersion;
    return json(200, {
      value: found.value,
      id: `${this.url}/secrets/${name}/${version}`,
      ...(found.contentType !== undefined ? { contentType: found.contentType } : {}),
      attributes: this.attributes(found),
      tags: {},
    });
  }

  private deleteSecret(name: string): SimResponse {
    const key = name.toLowerCase();
    const versions = this.secrets.get(key);
    if (!versions) return this.notFound(name);
    this.secrets.delete(key);
    const deletedDate = Math.floor(Date.now() / 1000);
    this.deleted.set(key, { versions, deletedDate });
    return json(200, this.deletedBundle(name, { versions, deletedDate }));
  }

  private deletedSecret(ctx: RouteContext, key: string, appid: unknown): SimResponse {
    const entry = this.deleted.get(key);
    if (ctx.req.method === 'GET') {
      if (!entry) return json(404, { error: { code: 'SecretNotFound', message: `Deleted Secret not found: ${key}` } });
      return json(200, this.deletedBundle(key, entry));
    }
    if (ctx.req.method !== 'DELETE')
      return json(404, { error: { code: 'NotFound', message: `No route for ${ctx.req.method} ${ctx.req.path}` } });
    const refused = this.refuseWrite(appid, 'purge');
    if (refused) return refused;
    if (!entry) return json(404, { error: { code: 'SecretNotFound', message: `Deleted Secret not found: ${key}` } });
    if (this.purgeProtection)
      return json(403, {
        error: {
          code: 'Forbidden',
          message: `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.`,
        },
      });
    this.deleted.delete(key);
    return { status: 204 };
  }

  private deletedBundle(name: string, entry: DeletedSecret): Record<string, unknown> {
    const newest = entry.versions[entry.versions.length - 1] as SecretVersion;
    return {
      recoveryId: `${this.url}/deletedsecrets/${name}`,
      deletedDate: entry.deletedDate,
      scheduledPurgeDate: entry.deletedDate + 90 * 86400,
      id: `${this.url}/secrets/${name}/${newest.version}`,
      attributes: this.attributes(newest),
      tags: {},
    };
  }

  private notFound(name: string): SimResponse {
    return json(404, {
      error: { code: 'SecretNotFound', message: `A secret with (name/id) ${name} was not found in this key vault.` },
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
