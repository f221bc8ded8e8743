/** ESLint (eslint.config.js: typescript-eslint's type-checked rules, eslint-plugin-regexp's in src/) finds nothing in src/, test/ or scripts/. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
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
    // A config that matched no file would pass vacuously.
    const typeScriptFiles = ['src', 'test', 'scripts'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts')),
    );
    assert.equal(results.length, typeScriptFiles.length);
    assert.deepEqual(findings, [], 'see eslint.config.js; `npx eslint --fix` fixes some');
  });

  it('type-checks, and holds every regex in src/ to linear time (regex-safety.test.ts shows those rules bite)', async () => {
    const config = (await new ESLint({ cwd: root }).calculateConfigForFile(join(root, 'src/start.ts'))) as { rules: Record<string, unknown> };
    const ERROR = 2;
    for (const rule of [
      '@typescript-eslint/no-floating-promises',
      '@typescript-eslint/no-misused-promises',
      '@typescript-eslint/no-unsafe-member-access',
      'regexp/no-super-linear-backtracking',
      'regexp/no-super-linear-move',
    ]) {
      assert.equal([config.rules[rule]].flat()[0], ERROR, rule);
    }
  });
});
