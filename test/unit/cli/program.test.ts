/**
 * CLI conventions (issue 12): every command and option is described, `--version` prints package.json's version,
 * every command that prints a result has `--json`, and progress goes to stderr only on a terminal.
 */
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { Command } from 'commander';
import { Progress, PROGRESS_INTERVAL_MS, streamIo, type Io } from '../../../shared/cli/io.js';
import { buildProgram, packageVersion, type CommandHandlers } from '../../../shared/cli/program.js';
import { main } from '../../../shared/cli/run.js';

const handlers = new Proxy({} as CommandHandlers, { get: () => async () => 0 });
const silentIo: Io = { out: () => undefined, err: () => undefined, interactive: false };

function walk(command: Command, path: string[] = []): { path: string; command: Command }[] {
  const here = { path: [...path, command.name()].join(' '), command };
  return [here, ...command.commands.flatMap((c) => walk(c, [...path, command.name()]))];
}

/** Commands whose result is for people only or is NDJSON already (listed so a new command is a deliberate choice). */
const NO_JSON = new Set([
  'incident-collector', // the root
  'incident-collector tenants',
  'incident-collector sources',
  'incident-collector subscriptions',
  'incident-collector incidents',
  'incident-collector history',
  'incident-collector credentials',
  'incident-collector incidents export', // NDJSON on stdout is its output
  'incident-collector demo', // a guided local showcase, its output is for reading
]);

describe('the commander tree', () => {
  const all = walk(buildProgram(handlers, silentIo, () => undefined));

  it('has a description on every command and every option', () => {
    const missing: string[] = [];
    for (const { path, command } of all) {
      if (!command.description().trim()) missing.push(path);
      for (const option of command.options) if (!option.description.trim()) missing.push(`${path} ${option.flags}`);
    }
    expect(all.length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });

  it('has --json on every command that prints a result', () => {
    const without = all
      .filter(({ path }) => !NO_JSON.has(path))
      .filter(({ command }) => !command.options.some((o) => o.long === '--json'))
      .map(({ path }) => path);
    expect(without).toEqual([]);
    const withJson = all.filter(({ command }) => command.options.some((o) => o.long === '--json')).map((c) => c.path);
    expect(withJson).toEqual(
      expect.arrayContaining([
        'incident-collector tenants add',
        'incident-collector tenants remove',
        'incident-collector tenants enable',
        'incident-collector tenants disable',
        'incident-collector consent-link',
        'incident-collector credentials check',
        'incident-collector sources check',
        'incident-collector history prune',
      ]),
    );
  });
});

describe('--version', () => {
  it("prints package.json's version on stdout and exits 0 (no settings needed)", async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    let out = '';
    const code = await main(
      ['--version'],
      { out: (t) => void (out += t), err: () => undefined, interactive: false },
      {},
    );
    expect(code).toBe(0);
    expect(out).toBe(`${pkg.version}\n`);
    expect(packageVersion()).toBe(pkg.version);
  });
});

/** A stream that records what was written; `isTTY` as a terminal's stderr has it. */
function fakeStream(isTTY: boolean): Writable & { isTTY?: boolean; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  }) as Writable & { isTTY?: boolean; text: () => string };
  if (isTTY) stream.isTTY = true;
  stream.text = () => text;
  return stream;
}

describe('progress', () => {
  it('on a terminal: counts on stderr, throttled by the clock, the final count always; nothing on stdout', () => {
    const stdout = fakeStream(false);
    const stderr = fakeStream(true);
    const io = streamIo(stdout, stderr);
    expect(io.interactive).toBe(true);
    let now = 0;
    const progress = new Progress(io, 'snapshots exported', () => now);
    progress.add(); // shown (first)
    progress.add(); // within the interval: not shown
    now += PROGRESS_INTERVAL_MS;
    progress.add(); // shown
    progress.done();
    expect(stderr.text()).toBe('\r1 snapshots exported\r3 snapshots exported\r3 snapshots exported\n');
    expect(stdout.text()).toBe('');
  });

  it('not on a terminal: nothing at all', () => {
    const stderr = fakeStream(false);
    const io = streamIo(fakeStream(false), stderr);
    expect(io.interactive).toBe(false);
    const progress = new Progress(io, 'snapshots exported', () => 0);
    progress.add(5);
    progress.done();
    expect(stderr.text()).toBe('');
  });
});
