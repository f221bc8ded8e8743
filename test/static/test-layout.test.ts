/** The unit tests are shaped like the code: test/unit/<folder>/ is src/<folder>/, so the room for a change has its tests beside it. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');
const folders = (dir: string) =>
  readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
/** The unit tests of the test tooling itself sit under the name of its folder in test/. */
const TEST_TOOLING = ['helpers', 'infra'];

describe('test layout', () => {
  it('puts every unit test in the folder of the src/ folder it tests', () => {
    const allowed = new Set([...folders('src'), ...TEST_TOOLING]);
    const loose = readdirSync(join(root, 'test/unit')).filter((name) => name.endsWith('.ts'));
    assert.deepEqual(loose, [], 'a unit test goes in test/unit/<src folder>/');
    const unknown = folders('test/unit').filter((name) => !allowed.has(name));
    assert.deepEqual(unknown, [], `test/unit/<folder> names a folder of src/ (or of test/: ${TEST_TOOLING.join(', ')})`);
    const files = folders('test/unit').flatMap((folder) => readdirSync(join(root, 'test/unit', folder), { recursive: true, encoding: 'utf8' }));
    assert.ok(files.filter((file) => file.endsWith('.test.ts')).length > 30, `${files.length} unit test files found`);
  });
});
