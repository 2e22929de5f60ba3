/**
 * The layer rules of eslint.config.js (issue 9), exercised through ESLint's Node API on the project's own config:
 * a wrong import in each layer must be reported by the layer rule, and a right one must pass. The files need not
 * exist: `filePath` only decides which config blocks apply.
 */
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';

const eslint = new ESLint({ cwd: process.cwd() });

const IMPORT_RULE = '@typescript-eslint/no-restricted-imports';
const SYNTAX_RULE = 'no-restricted-syntax';

/** The layer-rule messages ESLint reports for `code` as if it were `filePath`. */
async function layerFindings(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = [x];\n`, { filePath });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === IMPORT_RULE || m.ruleId === SYNTAX_RULE)
    .map((m) => `${m.ruleId}: ${m.message}`);
}

/** [layer file, wrong import, what the message must say] */
const WRONG: ReadonlyArray<readonly [string, string, RegExp]> = [
  ['shared/domain/rule.ts', "import { x } from '../adapters/http.js';", /innermost layer/],
  ['shared/domain/rule.ts', "import { x } from '../usecases/tenants.js';", /innermost layer/],
  ['shared/domain/rule.ts', "import { readFile as x } from 'node:fs/promises';", /no node: modules/],
  ['shared/domain/rule.ts', "import x from 'got';", /no packages/],
  ['shared/domain/rule.ts', "import { x } from '../ports.js';", /import type/],
  ['shared/lib/helper.ts', "import { x } from '../domain/errors.js';", /no knowledge of the collector/],
  ['shared/usecases/flow.ts', "import { x } from '../adapters/http.js';", /composition root/],
  ['shared/usecases/flow.ts', "import x from 'got';", /never talks to an SDK/],
  ['shared/usecases/flow.ts', "import { TableClient as x } from '@azure/data-tables';", /never talks to an SDK/],
  ['shared/usecases/flow.ts', "import { x } from '../../functions/http/answers.js';", /depends inward only/],
  ['shared/usecases/flow.ts', "import { x } from '../cli/io.js';", /depends inward only/],
  ['shared/usecases/flow.ts', "import { readFile as x } from 'node:fs/promises';", /through a port/],
  ['shared/usecases/flow.ts', "import { x } from '../composition.js';", /never build them/],
  ['shared/adapters/store.ts', "import { x } from '../usecases/tenants.js';", /depends inward only/],
  ['shared/adapters/store.ts', "import { x } from '../cli/io.js';", /depends inward only/],
  ['shared/adapters/store.ts', "import { x } from '../../functions/http/answers.js';", /depends inward only/],
  ['shared/config/settings2.ts', "import { x } from '../adapters/http.js';", /depends inward only/],
  ['shared/cli/command.ts', "import { x } from '../adapters/http.js';", /composition root/],
  ['shared/cli/command.ts', "import { x } from '../../functions/http/answers.js';", /depends inward only/],
  ['shared/host/glue.ts', "import { x } from '../adapters/http.js';", /composition root/],
  ['functions/http/thing.ts', "import { x } from '../../shared/adapters/http.js';", /composition root/],
  ['functions/http/thing.ts', "import { TableClient as x } from '@azure/data-tables';", /never talks to an SDK/],
  ['functions/http/thing.ts', "import x from 'got';", /never talks to an SDK/],
  ['functions/http/thing.ts', "import { x } from '../../shared/cli/io.js';", /neither imports the other/],
  ['functions/http/thing.ts', "import { x } from '../../shared/composition.js';", /through shared\/host/],
  ['functions/http/thing.ts', "import { x } from '../../test/functions/functionsHarness.js';", /never imports test/],
  ['shared/usecases/flow.ts', "import { x } from '../../test/unit/fakes.js';", /never imports test/],
  ['shared/adapters/store.ts', "import { x } from '../../scripts/bench/main.js';", /never imports scripts/],
  ['shared/cli/command.ts', "import { x } from '../../devstack/stack.js';", /never imports the local stack/],
  ['shared/cli/command.ts', "const x = await import('../../devstack/stack.js');", /only shared\/cli\/demo.ts/],
  ['scripts/bench/tool.ts', "import { x } from '../../test/functions/functionsHarness.js';", /never import test/],
  ['devstack/sim.ts', "import { x } from '../test/devstack/simClient.js';", /never imports test/],
  ['devstack/sim.ts', "import { x } from '../scripts/bench/main.js';", /never imports scripts/],
];

/** [layer file, right import] */
const RIGHT: ReadonlyArray<readonly [string, string]> = [
  ['shared/domain/rule.ts', "import { CollectorError as x } from './errors.js';"],
  ['shared/domain/rule.ts', "import type { TenantRecord as x } from '../ports.js';"],
  ['shared/lib/helper.ts', "import { mapBounded as x } from './bounded.js';"],
  ['shared/usecases/flow.ts', "import { x } from '../domain/errors.js';"],
  ['shared/usecases/flow.ts', "import type { Clock as x } from '../ports.js';"],
  ['shared/usecases/flow.ts', "import { mapBounded as x } from '../lib/bounded.js';"],
  ['shared/usecases/flow.ts', "import { randomUUID as x } from 'node:crypto';"],
  ['shared/adapters/store.ts', "import x from 'got';"],
  ['shared/adapters/store.ts', "import { x } from '../config/settings.js';"],
  ['shared/cli/command.ts', "import type { Services as x } from '../composition.js';"],
  ['shared/cli/demo.ts', "const x = await import('../../devstack/stack.js');"],
  ['shared/composition.ts', "import { x } from './adapters/http.js';"],
  ['functions/http/thing.ts', "import { app as x } from '@azure/functions';"],
  ['functions/http/thing.ts', "import { invoke as x } from '../../shared/host/invoke.js';"],
  ['functions/http/thing.ts', "import { x } from '../../shared/usecases/tenants.js';"],
  ['scripts/bench/tool.ts', "import { x } from '../../devstack/stack.js';"],
  ['devstack/sim.ts', "import { x } from '../shared/domain/time.js';"],
  ['test/unit/some.test.ts', "import { x } from '../../shared/adapters/http.js';"],
];

describe('layer lint (eslint.config.js)', () => {
  it.each(WRONG)('%s: %s is reported', async (filePath, code, says) => {
    const findings = await layerFindings(filePath, code);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatch(says);
  });

  it.each(RIGHT)('%s: %s passes', async (filePath, code) => {
    expect(await layerFindings(filePath, code)).toEqual([]);
  });
});
