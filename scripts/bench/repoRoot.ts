/** The repository root, whether this code runs from dist/scripts/bench (npm run bench) or scripts/bench (jest). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(): string {
  const up = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}
