import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';

/** The repo root: eslint.config.js there scopes the regex rules to src/**\/*.ts. */
const root = join(import.meta.dirname, '..', '..');
// The repo's config without type information, since the probe below is in no TypeScript project.
// That src/ passes these rules is test/static/lint.test.ts's check (it runs the whole config).
const eslint = new ESLint({ cwd: root, overrideConfig: tseslint.configs.disableTypeChecked });

describe('every regex in src/ runs in linear time', () => {
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
