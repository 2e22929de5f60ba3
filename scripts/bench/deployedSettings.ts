/**
 * What the Bicep deploys that the benchmark must measure with: the Node flags of the worker process
 * (`var nodeArguments` in infra/modules/functionApp.bicep, the `languageWorkers__node__arguments` app setting) and
 * the Flex Consumption instance memory (`param instanceMemoryMB` default in infra/main.bicep, for the cost model).
 * Read from the files themselves, so a change there changes the figures; a missing line is an error naming it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './repoRoot.js';

export interface DeployedSettings {
  /** Node flags the Bicep sets for the worker, split on spaces (empty when none). */
  readonly nodeArguments: readonly string[];
  readonly instanceMemoryMB: number;
}

/** Parses the two Bicep files' text (exported for the unit spec). */
export function parseDeployedSettings(functionAppBicep: string, mainBicep: string): DeployedSettings {
  const args = /^var nodeArguments = '([^']*)'$/m.exec(functionAppBicep);
  if (!args) throw new Error('infra/modules/functionApp.bicep has no line "var nodeArguments = \'…\'".');
  const memory = /^param instanceMemoryMB int = (\d+)$/m.exec(mainBicep);
  if (!memory) throw new Error('infra/main.bicep has no line "param instanceMemoryMB int = <MB>".');
  return {
    nodeArguments: (args[1] ?? '').split(' ').filter(Boolean),
    instanceMemoryMB: Number(memory[1]),
  };
}

export function deployedSettings(): DeployedSettings {
  const infra = path.join(repoRoot(), 'infra');
  return parseDeployedSettings(
    readFileSync(path.join(infra, 'modules', 'functionApp.bicep'), 'utf8'),
    readFileSync(path.join(infra, 'main.bicep'), 'utf8'),
  );
}
