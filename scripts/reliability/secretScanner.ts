/**
 * Secret hygiene: the exact secret and token values of a run (the partner secret, the Key Vault reader's secret,
 * the partner certificate's private key, every token Entra issued, every client assertion presented to it) looked
 * for in every text the product produced — log lines, error messages, export lines, raw table rows, child-process
 * stderr. A hit records where, never the value.
 */

/** Labels whose values are JWTs (looked up where a JWT or its signature can start). */
const JWT_LABELS = new Set(['token', 'assertion']);
export interface SecretHit {
  readonly where: string;
  readonly secret: string;
}

export class SecretScanner {
  private readonly secrets = new Map<string, string>();
  /** Tokens and their signatures by length: a scan looks them up where a JWT or a signature can start. */
  private readonly tokens = new Map<number, Map<string, string>>();
  private readonly signatures = new Map<number, Map<string, string>>();
  readonly hits: SecretHit[] = [];
  textsScanned = 0;

  /** `label` names the kind of secret in reports (e.g. `partner secret`, `token`, `assertion`). */
  add(value: string, label: string): void {
    if (value.length < 8) return;
    if (!JWT_LABELS.has(label)) {
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
      const set = index.get(v.length) ?? new Map<string, string>();
      set.set(v, label);
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
    const jwt = this.foundAt(text, 'eyJ', 0, this.tokens) ?? this.foundAt(text, '.', 1, this.signatures);
    if (jwt !== undefined) this.hits.push({ where, secret: jwt });
  }

  /** The label of the first indexed value found right after a `marker`, if any. */
  private foundAt(
    text: string,
    marker: string,
    skip: number,
    index: ReadonlyMap<number, ReadonlyMap<string, string>>,
  ): string | undefined {
    for (let i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
      for (const [length, set] of index) {
        const label = set.get(text.substr(i + skip, length));
        if (label !== undefined) return label;
      }
    }
    return undefined;
  }

  scanAll(texts: Iterable<string>, where: string): void {
    for (const t of texts) this.scan(t, where);
  }
}
