// servers: none
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serversOf } from '../infra/declared-servers.js';
import { components } from '../infra/state.js';

describe('the servers a test file declares', () => {
  it('reads the header line, in any order, with none meaning none', () => {
    assert.deepEqual(serversOf('test/e2e/a.test.ts', '/** doc */\n// servers: mongo, kube\nimport x;'), ['mongo', 'kube']);
    assert.deepEqual(serversOf('test/e2e/a.test.ts', '// servers: none\n'), []);
  });

  it('gives an undeclared file all servers, except under test/unit', () => {
    assert.deepEqual(serversOf('test/e2e/new.test.ts', 'import x;'), [...components]);
    assert.ok(components.includes('kube') && components.includes('mongo') && components.includes('helm'));
    assert.deepEqual(serversOf('test/unit/new.test.ts', 'import x;'), []);
  });

  it('fails on an unknown name instead of running without it', () => {
    assert.throws(() => serversOf('test/e2e/a.test.ts', '// servers: kube, postgres\n'), /unknown server 'postgres'/);
  });
});
