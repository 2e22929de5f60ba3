/**
 * Secret hygiene: the exact secret and token values of a run (the partner secret, the Key Vault reader's secret,
 * every token Entra issued) looked for in every text the product produced — log lines, error messages, export
 * lines, raw table rows, child-process stderr. A hit records where, never the value.
 */
export interface SecretHit {
  readonly where: string;
  readonly secret: string;
}

export class SecretScanner {
  private readonly secrets = new Map<string, string>();
  readonly hits: SecretHit[] = [];
  textsScanned = 0;

  /** `label` names the kind of secret in reports (e.g. `partner secret`, `token`). */
  add(value: string, label: string): void {
    if (value.length >= 8) this.secrets.set(value, label);
  }

  addAll(values: Iterable<string>, label: string): void {
    for (const v of values) this.add(v, label);
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  scan(text: string, where: string): void {
    this.textsScanned++;
    for (const [value, label] of this.secrets) {
      // Tokens are also looked for by their signature alone: a JWT cut at a dot still leaks its signature.
      const needles = label === 'token' ? [value, value.slice(value.lastIndexOf('.') + 1)] : [value];
      if (needles.some((n) => n.length >= 16 && text.includes(n))) this.hits.push({ where, secret: label });
    }
  }

  scanAll(texts: Iterable<string>, where: string): void {
    for (const t of texts) this.scan(t, where);
  }
}
