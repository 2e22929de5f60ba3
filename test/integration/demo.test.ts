/** The README's first command: `incident-collector demo` collects every simulated tenant and prints them. */
import { describe, expect, it } from '@jest/globals';
import { runCli } from '../../devstack/cli.js';

describe('demo', () => {
  it.each(['graph', 'm365d'] as const)(
    'collects every simulated tenant from %s and leaves nothing running',
    async (source) => {
      const { runDemo } = await import('../../shared/cli/demo.js');
      let out = '';
      let err = '';
      const code = await runDemo(
        { out: (t) => void (out += t), err: (t) => void (err += t), interactive: false },
        { source },
      );
      // On failure the diff shows what the demo said, so a CI log explains itself.
      expect({ code, out, err }).toMatchObject({ code: 0 });
      const rows = out.split('\n').filter((l) => / ok /.test(l));
      expect(rows).toHaveLength(3);
      expect(out).toMatch(/Contoso Ltd\s+120\s/);
      // Health after the run: every tenant collected in time (the legacy source is named as needing action).
      expect(out).toMatch(/^Health: healthy \(checked /m);
      expect(out).toContain('Coverage: 100.0 % of collectable tenants collected in time');
      expect(out).toContain(source === 'graph' ? 'No tenant needs action.' : 'Tenants that need action (3):');
      // Every stored version became one event, delivered to the local receiver with a verified signature.
      expect(out).toMatch(/Webhook deliveries \(delivered 177, failed 0, pending 0; 177 signatures verified/);
      expect(out).toMatch(/Contoso Ltd\s+120\s+incident\.created/);
    },
  );

  it('is reachable through the CLI entry with no settings at all', async () => {
    const r = await runCli(['demo'], {});
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain('Stored snapshots');
  });
});
