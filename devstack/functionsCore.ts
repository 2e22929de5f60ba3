/**
 * A stand-in for `@azure/functions-core`, the module the Azure Functions Node worker injects. With it present,
 * `@azure/functions` leaves its test mode and every `app.*` call at import time reaches
 * `registerFunction(metadata, handler)` exactly as under the host; the stub records each registration (the
 * metadata the host reads — trigger and output bindings — and the user's handler) on `globalThis`.
 *
 * One implementation, two uses: `CORE_STUB_SOURCE` is preloaded with `node --import` in a fresh process (the cold
 * start benchmark), and `loadFunctionApp` installs the same source in the current process before importing an app
 * entry (the local queue host, devstack/queueHost.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** One binding of a registration, as @azure/functions hands it to the worker (`direction` in or out). */
export interface BindingMetadata {
  readonly name: string;
  /** e.g. `queueTrigger`, `timerTrigger`, `httpTrigger`, `queue` (an output), `http`. */
  readonly type: string;
  readonly direction: 'in' | 'out';
  readonly queueName?: string;
  readonly connection?: string;
  readonly schedule?: string;
  readonly [key: string]: unknown;
}

/** A registered function: its metadata (name and bindings by binding name) and the app's own handler. */
export interface Registration {
  readonly metadata: { readonly name: string; readonly bindings: Readonly<Record<string, BindingMetadata>> };
  readonly handler: (input: unknown, context: unknown) => unknown;
}

/** Where the stub keeps the registrations (an array on globalThis). */
export const REGISTRY_KEY = '__functionsCoreRegistrations';

/**
 * The stub as an ES module source: answers what @azure/functions asks of the worker, records each
 * `registerFunction(metadata, handler)` in `globalThis[REGISTRY_KEY]`. Installing it twice keeps the first.
 */
export const CORE_STUB_SOURCE = `
import Module from 'node:module';
if (!globalThis.${REGISTRY_KEY}) {
  const registered = [];
  const disposable = { dispose() {} };
  const core = {
    version: 'devstack-stub',
    setProgrammingModel() {},
    getProgrammingModel() { return undefined; },
    registerFunction(metadata, handler) { registered.push({ metadata, handler }); return disposable; },
    registerHook() { return disposable; },
    log() {},
  };
  const load = Module._load;
  Module._load = function (request, ...rest) {
    return request === '@azure/functions-core' ? core : load.call(this, request, ...rest);
  };
  globalThis.${REGISTRY_KEY} = registered;
}
`;

/** Write the stub as `functions-core-stub.mjs` in `dir` (for `node --import`); returns its path. */
export async function writeCoreStub(dir: string): Promise<string> {
  const file = path.join(dir, 'functions-core-stub.mjs');
  await writeFile(file, CORE_STUB_SOURCE);
  return file;
}

/** The registrations recorded so far in this process (empty before the stub is installed). */
export function registrations(): readonly Registration[] {
  return ((globalThis as Record<string, unknown>)[REGISTRY_KEY] as Registration[] | undefined) ?? [];
}

/**
 * Install the stub in this process, then import the app entry (a JavaScript file: `dist/functions/index.js` or a
 * bundle of it) so its `app.*` calls register. Returns the registrations; throws when the entry registers nothing
 * (it was imported before the stub, or is not a Functions app).
 */
export async function loadFunctionApp(entry: string): Promise<readonly Registration[]> {
  if ((globalThis as Record<string, unknown>)[REGISTRY_KEY] === undefined) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'functions-core-'));
    try {
      await import(pathToFileURL(await writeCoreStub(dir)).href);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  await import(pathToFileURL(entry).href);
  const found = registrations();
  if (found.length === 0) throw new Error(`${entry} registered no function (is it an Azure Functions app entry?).`);
  return found;
}
