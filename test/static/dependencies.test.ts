/** The floors of src/ hold: .dependency-cruiser.cjs says who may import whom, this runs it on src/. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cruise, type ICruiseResult, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = join(import.meta.dirname, '../..');
const config = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as IConfiguration;

describe('dependencies', () => {
  it('every import in src/ keeps to the floors, the one-folder libraries and the pure domain', async () => {
    const previous = process.cwd();
    process.chdir(root); // the rules' paths are relative to the repository
    let result: ICruiseResult;
    try {
      const output = await cruise(['src'], { ...config.options, ruleSet: config, validate: true }, {}, { tsConfig: extractTSConfig('tsconfig.json') });
      result = output.output as ICruiseResult;
    } finally {
      process.chdir(previous);
    }
    const ours = result.modules.filter((module) => module.source.startsWith('src/'));
    assert.ok(ours.length > 100, `${ours.length} modules of src/ cruised`);
    const why = new Map((config.forbidden ?? []).map((rule) => [rule.name, rule.comment]));
    const violations = result.summary.violations.map(({ rule, from, to }) => `${from} → ${to}: ${why.get(rule.name) ?? rule.name}`);
    assert.deepEqual(violations, [], 'see .dependency-cruiser.cjs and CONTRIBUTING.md for who may import whom');
  });
});
