/**
 * `npm run package`: the deployment package azd and `az functionapp deployment source config-zip` take — a folder
 * with host.json, a package.json whose "main" is the bundle, and the same folder as a zip.
 */
import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

describe('npm run package', () => {
  it('stages host.json, package.json and the bundle, and zips them with forward-slash paths', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'collector-package-'));
    try {
      const out = path.join(dir, 'package');
      execFileSync(process.execPath, [path.join('scripts', 'package.mjs'), '--out', out], { stdio: 'pipe' });
      const pkg = JSON.parse(readFileSync(path.join(out, 'package.json'), 'utf8')) as { type: string; main: string };
      expect(pkg.type).toBe('module');
      expect(readFileSync(path.join(out, pkg.main), 'utf8')).toContain('collectSchedule');
      expect(JSON.parse(readFileSync(path.join(out, 'host.json'), 'utf8'))).toMatchObject({ version: '2.0' });
      const zip = readFileSync(`${out}.zip`);
      expect(zip.subarray(0, 4).toString('latin1')).toBe('PK\u0003\u0004');
      // The central directory stores entry names uncompressed.
      const names = zip.toString('latin1');
      for (const name of ['host.json', 'package.json', pkg.main.replace(/^\.\//, '')]) expect(names).toContain(name);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
