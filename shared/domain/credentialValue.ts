/**
 * The one normalisation of credential values (issue 10 §4), applied wherever a value comes from: Key Vault, an app
 * setting, an environment variable. Leading and trailing whitespace (spaces, tabs, CR, LF) and a byte-order mark
 * are never part of a secret Entra issued — they are what `az keyvault secret set --file`, editors and shells add —
 * so they are removed; inner characters are kept exactly. Callers log that a value was changed (`changed`), never
 * the value.
 */

export interface NormalisedCredential {
  readonly value: string;
  /** True when something was removed. */
  readonly changed: boolean;
}

const EDGES = /^[\s\uFEFF]+|[\s\uFEFF]+$/g;

/** `raw` without surrounding whitespace or byte-order marks; `changed` says whether anything was removed. */
export function normaliseCredential(raw: string): NormalisedCredential {
  const value = raw.replace(EDGES, '');
  return { value, changed: value !== raw };
}
