/**
 * Where the collector child's JavaScript comes from: next to this file when the benchmark runs from `dist/`
 * (`npm run bench` builds first); otherwise (jest runs the TypeScript sources) collectChild.ts is bundled
 * with esbuild into a temporary directory that `dispose()` removes.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './repoRoot.js';

export interface ChildScript {
  readonly path: string;
  dispose(): Promise<void>;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function prepareChildScript(): Promise<ChildScript> {
  const built = path.join(here, 'collectChild.js');
  if (existsSync(built)) return { path: built, dispose: async () => undefined };
  const { build } = await import('esbuild');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-child-'));
  const outfile = path.join(dir, 'collectChild.mjs');
  try {
    await build({
      entryPoints: [path.join(repoRoot(), 'scripts', 'bench', 'collectChild.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      outfile,
      logLevel: 'error',
      // CommonJS dependencies inside an ESM bundle still call require().
      banner: { js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);" },
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return { path: outfile, dispose: () => rm(dir, { recursive: true, force: true }) };
}
