import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'infra/**',
      '.bicep/**',
      'coverage/**',
      'bench-results/**',
      'test-output/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  ...layerRules(),
);

/**
 * The layer rules (issue 9): which folder may import which. A restriction's message says why, so whoever trips it
 * knows where the code belongs instead. Patterns are regular expressions on the import specifier; relative
 * specifiers are matched by the folder names they pass through (`../adapters/http.js`).
 *
 * Flat config does not merge a rule's options across blocks (the last block wins), so each layer's block repeats
 * the restrictions every production file shares (no test/, scripts/ or devstack/).
 */
function layerRules() {
  const sdk = (layer) => ({
    regex: '^(@azure/(?!functions$)|got$|jose$|commander$)',
    message: `${layer} never talks to an SDK: outside services are reached through a port implemented in shared/adapters.`,
  });
  const production = [
    { regex: '(^|/)test/', message: 'Production code never imports test/: move what both need into shared/.' },
    {
      regex: '(^|/)scripts/',
      message: 'Production code never imports scripts/ (bench, reliability, packaging tools).',
    },
    {
      regex: '(^|/)devstack/',
      message: 'Production code never imports the local stack (simulators); only the demo loads it, dynamically.',
    },
  ];
  const adapters = (layer) => ({
    regex: '(^|/)adapters/',
    message: `${layer} never builds or calls adapters directly: the composition root (shared/composition.ts, reached through shared/host for functions) wires them behind ports, so one place decides which implementation runs.`,
  });
  const inward = (layer, folders) => ({
    regex: `(^|/)(${folders.join('|')})/`,
    message: `${layer} depends inward only: ${folders.join(', ')} ${folders.length > 1 ? 'depend' : 'depends'} on it, not the other way round.`,
  });
  const restrict = (files, patterns, extra = {}) => ({
    files,
    ...extra,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  });
  /** Dynamic `import()` is not an import declaration: the same devstack ban, as syntax. */
  const noDynamicDevstack = {
    selector: 'ImportExpression[source.value=/(^|\\/)devstack\\//]',
    message: 'Production code never imports the local stack; only shared/cli/demo.ts may load it (dynamically).',
  };
  return [
    restrict(
      ['shared/domain/**/*.ts'],
      [
        {
          regex: '^[^.]',
          message:
            'shared/domain is pure rules: no packages and no node: modules (no I/O, no SDK); pass facts in as values.',
        },
        {
          regex: '^\\.\\./(?!ports\\.js$)',
          message: 'shared/domain imports nothing but domain (and the port types): it is the innermost layer.',
        },
        {
          regex: '^\\.\\./ports\\.js$',
          allowTypeImports: true,
          message: 'shared/domain may use the port types (records), never values: use `import type`.',
        },
        ...production,
      ],
    ),
    restrict(
      ['shared/lib/**/*.ts'],
      [
        { regex: '^\\.\\./', message: 'shared/lib holds general helpers with no knowledge of the collector.' },
        { regex: '^[^.]', message: 'shared/lib holds general helpers: no packages and no node: I/O modules.' },
        ...production,
      ],
    ),
    restrict(
      ['shared/usecases/**/*.ts'],
      [
        adapters('shared/usecases'),
        inward('shared/usecases', ['cli', 'host', 'functions']),
        { regex: '(^|/)composition\\.js$', message: 'Use cases receive their dependencies; they never build them.' },
        sdk('shared/usecases'),
        {
          regex: '^(node:)?(fs|fs/promises|http|https|http2|net|tls|dgram|child_process|worker_threads)$',
          message: 'shared/usecases is host-agnostic: I/O goes through a port (shared/ports.ts).',
        },
        ...production,
      ],
    ),
    restrict(
      ['shared/config/**/*.ts'],
      [
        inward('shared/config', ['adapters', 'usecases', 'cli', 'host', 'functions']),
        sdk('shared/config'),
        ...production,
      ],
    ),
    restrict(
      ['shared/adapters/**/*.ts'],
      [
        inward('shared/adapters', ['usecases', 'cli', 'host', 'functions']),
        { regex: '(^|/)composition\\.js$', message: 'Adapters are wired by the composition root, never the reverse.' },
        ...production,
      ],
    ),
    restrict(
      ['shared/host/**/*.ts'],
      [adapters('shared/host'), inward('shared/host', ['cli', 'functions']), ...production],
    ),
    restrict(
      ['shared/cli/**/*.ts'],
      [
        adapters('shared/cli'),
        inward('shared/cli', ['host', 'functions']),
        {
          regex: '^(@azure/|got$|jose$)',
          message:
            'shared/cli never talks to an SDK: outside services are reached through ports the composition root wires.',
        },
        ...production,
      ],
    ),
    restrict(['shared/*.ts'], [inward('shared/ (root files)', ['cli', 'host', 'functions']), ...production]),
    restrict(
      ['functions/**/*.ts'],
      [
        adapters('functions/'),
        sdk('functions/ (thin host adapters)'),
        {
          regex: '(^|/)(cli)/',
          message: 'functions/ and the CLI are two hosts of the same use cases: neither imports the other.',
        },
        {
          regex: '(^|/)composition\\.js$',
          message: 'functions/ reach services through shared/host (invoke), which owns the composition root.',
        },
        ...production,
      ],
    ),
    {
      files: ['shared/**/*.ts', 'functions/**/*.ts'],
      ignores: ['shared/cli/demo.ts'],
      rules: { 'no-restricted-syntax': ['error', noDynamicDevstack] },
    },
    restrict(
      ['scripts/**/*.ts'],
      [{ regex: '(^|/)test/', message: 'scripts/ never import test/: the shared local stack lives in devstack/.' }],
    ),
    restrict(
      ['devstack/**/*.ts'],
      [
        { regex: '(^|/)test/', message: 'devstack/ never imports test/: tests use the stack, not the reverse.' },
        {
          regex: '(^|/)scripts/',
          message: 'devstack/ never imports scripts/: bench and reliability use it, not the reverse.',
        },
      ],
    ),
  ];
}
