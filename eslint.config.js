// The repo's ESLint config. For now it holds only the checks that prove each regex in src/ runs in
// linear time, since most of them read text a sender controls (test/unit/regex-safety.test.ts runs it).
import { defineConfig } from 'eslint/config';
import regexp from 'eslint-plugin-regexp';
import tseslint from 'typescript-eslint';

export default defineConfig({
  files: ['src/**/*.ts'],
  languageOptions: { parser: tseslint.parser },
  plugins: { regexp },
  rules: {
    'regexp/no-super-linear-backtracking': 'error',
    'regexp/no-super-linear-move': 'error',
    'regexp/no-misleading-capturing-group': 'error',
  },
});
