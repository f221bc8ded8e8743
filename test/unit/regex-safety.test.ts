import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';

/** The repo root: eslint.config.js there scopes the regex rules to src/**\/*.ts. */
const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

const sourceFiles = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));

describe('every regex in src/ runs in linear time', () => {
  it('eslint-plugin-regexp finds no super-linear backtracking, move or misleading group', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    // A config that matched no file would pass vacuously.
    assert.equal(results.length, sourceFiles.length);
    const findings = results.flatMap(({ filePath, messages }) =>
      messages.map(({ line, column, ruleId, message }) => `${filePath.slice(root.length + 1)}:${line}:${column} ${ruleId ?? 'parse'}: ${message}`),
    );
    assert.deepEqual(findings, []);
  });

  it('flags each shape the rules exist for, so a broken config cannot pass vacuously', async () => {
    const cases: Array<[regex: string, rules: string[]]> = [
      // The trailing trim that once made `http://a` + 60,000 dots + `x` take seconds: quadratic.
      ['/[.,;:)\\]]+$/', ['regexp/no-super-linear-move']],
      ['/^(?:a+)+$/', ['regexp/no-super-linear-backtracking']],
      ['/^(\\w+)\\s*\\w+$/', ['regexp/no-super-linear-backtracking', 'regexp/no-misleading-capturing-group']],
    ];
    for (const [regex, rules] of cases) {
      const [result] = await eslint.lintText(`export const matches = (text: string) => ${regex}.test(text);`, { filePath: join(root, 'src/probe.ts') });
      assert.deepEqual(
        result!.messages.map(({ ruleId }) => ruleId),
        rules,
        regex,
      );
    }
  });
});
