/**
 * The compiled template for the policy tests. Built through scripts/infra-bicep.mjs (real Bicep CLI, zero
 * errors and warnings) when .bicep/main.json is missing or older than anything under infra/, so `npm test` in CI
 * compiles and lints the Bicep itself. Without Bicep (no dotnet, no BICEP_BIN) the tests are skipped loudly —
 * except when CI is set, where that is a failure.
 */
import { readFileSync } from 'node:fs';
import {
  build,
  COMPILED_TEMPLATE,
  compiledTemplateIsStale,
  EXIT_UNAVAILABLE,
  InfraCheckError,
} from '../../scripts/infra-bicep.mjs';
import type { ArmTemplate } from './armTemplate.js';

export type TemplateLoad =
  { readonly kind: 'ok'; readonly template: ArmTemplate } | { readonly kind: 'unavailable'; readonly message: string };

export function loadCompiledTemplate(): TemplateLoad {
  if (compiledTemplateIsStale()) {
    try {
      build();
    } catch (error) {
      const unavailable = error instanceof InfraCheckError && error.exitCode === EXIT_UNAVAILABLE;
      if (!unavailable) throw error;
      if (process.env.CI)
        throw new Error(`CI is set, so the Bicep policy tests may not be skipped.\n${error.message}`, { cause: error });
      return { kind: 'unavailable', message: error.message };
    }
  }
  return { kind: 'ok', template: JSON.parse(readFileSync(COMPILED_TEMPLATE, 'utf8')) as ArmTemplate };
}

/** Print the reason the suite is skipped where nobody can miss it. */
export function announceSkip(message: string): void {
  const bar = '!'.repeat(78);
  process.stderr.write(`\n${bar}\nBICEP POLICY TESTS SKIPPED (CI is not set).\n${message}\n${bar}\n\n`);
}
