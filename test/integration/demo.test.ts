/** The README's first command: `incident-collector demo` collects every simulated tenant and prints them. */
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../helpers/cli.js';

describe('demo', () => {
  it.each(['graph', 'm365d'] as const)('collects every simulated tenant from %s and leaves nothing running', async (source) => {
    const { runDemo } = await import('../../shared/cli/demo.js');
    let out = '';
    const code = await runDemo({ out: (t) => void (out += t), err: () => undefined, interactive: false }, { source });
    expect(code).toBe(0);
    const rows = out.split('\n').filter((l) => / ok /.test(l));
    expect(rows).toHaveLength(3);
    expect(out).toMatch(/Contoso Ltd\s+120\s/);
  });

  it('is reachable through the CLI entry with no settings at all', async () => {
    const r = await runCli(['demo'], {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Stored snapshots');
  });
});
