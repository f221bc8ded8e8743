/** ESLint (eslint.config.js: typescript-eslint's type-checked rules) finds nothing in src/, test/ or scripts/. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '../..');

describe('lint', () => {
  it('reports no finding in src/, test/ or scripts/', async () => {
    const eslint = new ESLint({ cwd: root });
    const results = await eslint.lintFiles(['src', 'test', 'scripts']);
    const findings = results.flatMap((result) =>
      result.messages.map((message) => `${relative(root, result.filePath)}:${message.line}:${message.column} ${message.ruleId ?? 'error'}: ${message.message}`),
    );
    assert.ok(results.length > 100, `${results.length} files linted`);
    assert.deepEqual(findings, [], 'see eslint.config.js; `npx eslint --fix` fixes some');
  });

  it('type-checks: the rules that need types are on for the service code', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(join(root, 'src/start.ts'))) as { rules: Record<string, unknown> };
    const ERROR = 2;
    for (const rule of ['@typescript-eslint/no-floating-promises', '@typescript-eslint/no-misused-promises', '@typescript-eslint/no-unsafe-member-access']) {
      assert.equal([config.rules[rule]].flat()[0], ERROR, rule);
    }
  });
});
