/**
 * knip (knip.jsonc) finds no unused file, export, type or dependency, and no package used without
 * being declared; the production run finds no dependency that only tests or tools use and no
 * production code importing a devDependency.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const root = join(import.meta.dirname, '../..');
const run = promisify(execFile);

/** knip's text report: empty and exit code 0 when it finds nothing. */
async function knip(...args: string[]): Promise<{ code: number; report: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, 'node_modules/knip/bin/knip.js'), '--no-progress', '--reporter', 'compact', ...args], {
      cwd: root,
    });
    return { code: 0, report: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, report: `${stdout}${stderr}`.trim() };
  }
}

describe('unused code and dependencies (knip)', () => {
  it('finds nothing unused or undeclared', async () => {
    const { code, report } = await knip();
    assert.equal(report, '', 'see knip.jsonc');
    assert.equal(code, 0);
  });

  it('finds no production file or dependency that only tests and tools use', async () => {
    const { code, report } = await knip('--production', '--include', 'files,dependencies,unlisted,unresolved');
    assert.equal(report, '');
    assert.equal(code, 0);
  });
});
