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
  /** Tokens and their signatures by length: a scan looks them up where a JWT or a signature can start. */
  private readonly tokens = new Map<number, Set<string>>();
  private readonly signatures = new Map<number, Set<string>>();
  readonly hits: SecretHit[] = [];
  textsScanned = 0;

  /** `label` names the kind of secret in reports (e.g. `partner secret`, `token`). */
  add(value: string, label: string): void {
    if (value.length < 8) return;
    if (label !== 'token') {
      this.secrets.set(value, label);
      return;
    }
    // A JWT cut at a dot still leaks its signature, so signatures are looked for on their own too.
    const signature = value.slice(value.lastIndexOf('.') + 1);
    for (const [index, v] of [
      [this.tokens, value],
      [this.signatures, signature],
    ] as const) {
      if (v.length < 16) continue;
      const set = index.get(v.length) ?? new Set<string>();
      set.add(v);
      index.set(v.length, set);
    }
  }

  addAll(values: Iterable<string>, label: string): void {
    for (const v of values) this.add(v, label);
  }

  get secretCount(): number {
    return this.secrets.size;
  }

  scan(text: string, where: string): void {
    this.textsScanned++;
    for (const [value, label] of this.secrets) if (text.includes(value)) this.hits.push({ where, secret: label });
    // Tokens start with `eyJ`; signatures follow a dot. Look up only there (thousands of tokens × long rows).
    if (this.foundAt(text, 'eyJ', 0, this.tokens) || this.foundAt(text, '.', 1, this.signatures))
      this.hits.push({ where, secret: 'token' });
  }

  private foundAt(
    text: string,
    marker: string,
    skip: number,
    index: ReadonlyMap<number, ReadonlySet<string>>,
  ): boolean {
    for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
      for (const [length, set] of index) if (set.has(text.substr(i + skip, length))) return true;
    }
    return false;
  }

  scanAll(texts: Iterable<string>, where: string): void {
    for (const t of texts) this.scan(t, where);
  }
}
