/**
 * Where a child script's JavaScript comes from (collectChild by default; deliverChild for the delivery workload): next
 * to this file when the benchmark runs from `dist/` (`npm run bench` builds first); otherwise (jest runs the
 * TypeScript sources) the entry is bundled with esbuild into a temporary directory that `dispose()` removes.
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

/** The benchmark's child scripts (each a file beside this one). */
export type ChildEntry = 'collectChild' | 'deliverChild';

export async function prepareChildScript(entry: ChildEntry = 'collectChild'): Promise<ChildScript> {
  const built = path.join(here, `${entry}.js`);
  if (existsSync(built)) return { path: built, dispose: async () => undefined };
  const { build } = await import('esbuild');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-child-'));
  const outfile = path.join(dir, `${entry}.mjs`);
  try {
    await build({
      entryPoints: [path.join(repoRoot(), 'scripts', 'bench', `${entry}.ts`)],
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
