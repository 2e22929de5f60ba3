#!/usr/bin/env node
/**
 * `npm run package`: the deployment package azd (azure.yaml `dist: dist/package`, remoteBuild off) and
 * `az functionapp deployment source config-zip` deploy.
 *
 *   node scripts/package.mjs [--out <dir>] [--no-zip]
 *
 * functions/index.ts and everything it imports (shared/, @azure/*, got…) become ONE ES module bundled by esbuild:
 * a cold start then reads and compiles one file instead of resolving and loading hundreds of modules.
 * `@azure/functions-core` stays external: the Functions worker injects it at run time. CommonJS dependencies
 * inside the ESM bundle get a `require` from `createRequire`.
 *
 * Output (default dist/package/): host.json, package.json ("type": "module", "main"), dist/index.js + its
 * source map; and dist/package.zip beside it (written here with node:zlib — no `zip` CLI needed).
 * Prints the paths and sizes; exit 1 on failure.
 */
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import yazl from 'yazl';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_OUT_DIR = join(ROOT, 'dist', 'package');
export const ENTRY = join(ROOT, 'functions', 'index.ts');
/** Where the bundle sits inside the package (package.json `main`). */
export const BUNDLE_PATH = 'dist/index.js';

const REQUIRE_BANNER = "import { createRequire } from 'module'; const require = createRequire(import.meta.url);";

/**
 * zod 4 exposes every message locale through `z.locales` (a quarter of the bundle); the app only ever uses the
 * default English messages, which zod loads itself. Keep that one.
 */
const onlyEnglishZodLocale = {
  name: 'only-english-zod-locale',
  setup(build) {
    build.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";',
      loader: 'js',
    }));
  },
};

/** Bundle the app into `outDir`; returns the bundle path. */
export async function bundleApp(outDir) {
  const { build } = await import('esbuild');
  const outfile = join(outDir, BUNDLE_PATH);
  await build({
    entryPoints: { index: ENTRY },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    outdir: dirname(outfile),
    // What is imported lazily (the OpenTelemetry distro, on only with APPLICATIONINSIGHTS_CONNECTION_STRING, about
    // half of the code) goes to its own chunk under chunks/, so a cold start without telemetry does not parse it.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    // Less to parse on every cold start; the source map keeps stack traces readable.
    minify: true,
    legalComments: 'linked',
    external: ['@azure/functions-core'],
    plugins: [onlyEnglishZodLocale],
    banner: { js: REQUIRE_BANNER },
    logLevel: 'error',
  });
  return outfile;
}

function packageJson() {
  const source = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  // No dependencies: everything is in the bundle (remoteBuild is off, nothing is installed on the server).
  return {
    name: source.name,
    version: source.version,
    private: true,
    type: 'module',
    main: BUNDLE_PATH,
    engines: source.engines,
  };
}

/** Stage the package folder: host.json, package.json, bundle + map. */
export async function stagePackage(outDir = DEFAULT_OUT_DIR) {
  const hostJson = join(ROOT, 'host.json');
  if (!existsSync(ENTRY)) throw new Error(`The function app entry ${relative(ROOT, ENTRY)} does not exist.`);
  if (!existsSync(hostJson)) throw new Error('host.json does not exist at the repository root.');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const bundle = await bundleApp(outDir);
  writeFileSync(join(outDir, 'host.json'), readFileSync(hostJson));
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify(packageJson(), null, 2)}\n`);
  return { outDir, bundle };
}

function filesUnder(dir) {
  const files = [];
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) files.push(...filesUnder(full));
    else files.push(full);
  }
  return files;
}

/**
 * A plain zip of every file under `dir`, paths relative to it with forward slashes — what Kudu/OneDeploy and azd
 * expect. Written with yazl (a small, well-kept zip writer).
 */
export function writeZip(dir, zipFile) {
  const zip = new yazl.ZipFile();
  for (const file of filesUnder(dir)) zip.addFile(file, relative(dir, file).split(sep).join('/'), { mode: 0o100644 });
  zip.end();
  return new Promise((resolvePromise, reject) => {
    const out = createWriteStream(zipFile);
    out.on('close', () => resolvePromise(zipFile));
    out.on('error', reject);
    zip.outputStream.on('error', reject).pipe(out);
  });
}

export async function packageApp({ outDir = DEFAULT_OUT_DIR, zip = true } = {}) {
  const staged = await stagePackage(outDir);
  const zipFile = zip ? await writeZip(outDir, `${outDir.replace(/[\\/]+$/, '')}.zip`) : undefined;
  return { ...staged, zipFile };
}

function argValue(argv, flag) {
  const at = argv.indexOf(flag);
  return at >= 0 ? argv[at + 1] : undefined;
}

async function main(argv) {
  const out = argValue(argv, '--out');
  const result = await packageApp({ outDir: out ? resolve(out) : DEFAULT_OUT_DIR, zip: !argv.includes('--no-zip') });
  const kb = (file) => `${(statSync(file).size / 1024).toFixed(0)} KiB`;
  process.stdout.write(`package: ${relative(process.cwd(), result.outDir) || '.'}/ (bundle ${kb(result.bundle)})\n`);
  if (result.zipFile)
    process.stdout.write(`zip:     ${relative(process.cwd(), result.zipFile)} (${kb(result.zipFile)})\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
