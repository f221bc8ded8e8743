/** The formatter's rules (.prettierrc.json) hold for every TypeScript file: `npm run format` applies them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as prettier from 'prettier';

const root = join(import.meta.dirname, '../..');

function typeScriptFiles(): string[] {
  return ['src', 'test', 'scripts'].flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.includes('node_modules'))
      .map((file) => join(root, dir, file)),
  );
}

describe('formatting', () => {
  it('matches the formatter for every TypeScript file', async () => {
    const unformatted: string[] = [];
    const files = typeScriptFiles();
    for (const file of files) {
      const options = { ...(await prettier.resolveConfig(file)), filepath: file };
      if (!(await prettier.check(readFileSync(file, 'utf8'), options))) unformatted.push(relative(root, file));
    }
    assert.ok(files.length > 100, `${files.length} files checked`);
    assert.deepEqual(unformatted, [], 'run `npm run format`');
  });
});
