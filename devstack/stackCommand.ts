/** Entry point of `npm run stack` (see serve.ts): parse the options, serve until Ctrl-C. */
import { parseServeArgs, serveLocalStack } from './serve.js';

try {
  await serveLocalStack(parseServeArgs(process.argv.slice(2)));
} catch (error) {
  process.stderr.write(`npm run stack: ${(error as Error).message}\n`);
  process.exit(1);
}
