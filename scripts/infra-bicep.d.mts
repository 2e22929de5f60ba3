/** Types of scripts/infra-bicep.mjs for the TypeScript tests that drive it. */
export declare const BICEP_VERSION: string;
export declare const EXIT_UNAVAILABLE: number;
export declare const DEFAULT_CACHE_DIR: string;
export declare const COMPILED_TEMPLATE: string;

export interface InfraBicepOptions {
  /** Where the CLI is restored and main.json/check.json are written (default .bicep/). */
  readonly cacheDir?: string;
  /** Environment consulted for BICEP_BIN and PATH (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface BicepDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly level: 'Error' | 'Warning' | 'Info';
  readonly code: string;
  readonly message: string;
}

export interface InfraCheckSummary {
  readonly bicepVersion: string;
  readonly bicepSource: 'BICEP_BIN' | 'restored';
  readonly compiledTemplate: string;
  readonly restoreMs: number;
  readonly buildMs: number;
  readonly lintMs: number;
  readonly files: readonly string[];
  readonly errors: number;
  readonly warnings: number;
  readonly diagnostics: readonly BicepDiagnostic[];
}

export declare class InfraCheckError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode?: number);
}

export declare function parseDiagnostics(output: string): BicepDiagnostic[];
export declare function restoreBicep(options?: InfraBicepOptions): number;
export declare function resolveBicep(options?: InfraBicepOptions): {
  binary: string;
  restoreMs: number;
  source: 'BICEP_BIN' | 'restored';
};
export declare function build(options?: InfraBicepOptions): InfraCheckSummary;
export declare function compiledTemplateIsStale(): boolean;
