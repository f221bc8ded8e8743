/**
 * Every setting the service reads is documented in docs/configuration.md, and everything that
 * page documents as a setting is read: the names are collected from the code's env readers and
 * from the page's tables, and must be the same set. Likewise every metric in docs/operations.md.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { loadSettings } from '../../../src/config/settings.js';
import { loadPipelineSettings } from '../../../src/config/pipeline-settings.js';
import { loadOperatorSettings } from '../../../src/config/operator-settings.js';
import { loadKubernetesSettings } from '../../../src/config/kubernetes-settings.js';
import { createMetrics } from '../../../src/metrics/metrics.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** The reads of the env reader (`read.string('X')`, `read.integer('X', …)`, the destructured `read('X')`/`int('X')`). */
const ENV_READ = /\b(?:read(?:\.(?:string|integer|oneOf|boolean|list))?|int|string|integer|oneOf|boolean|list)\(\s*'([A-Z][A-Z0-9_]*)'/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.startsWith('cli/'))
    .map((file) => join(dir, file));
}

/** Names the service's code reads from the environment, by reading the code. */
function namesInCode(): Set<string> {
  const names = new Set<string>();
  for (const file of sourceFiles(join(ROOT, 'src'))) for (const match of readFileSync(file, 'utf8').matchAll(ENV_READ)) names.add(match[1]!);
  return names;
}

/** Names the first column of a table of docs/configuration.md gives: "| `NAME` | …". */
function namesInDocs(): Set<string> {
  const page = readFileSync(join(ROOT, 'docs/configuration.md'), 'utf8');
  return new Set([...page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \|/gm)].map((match) => match[1]!));
}

describe('docs/configuration.md and the settings the code reads', () => {
  it('finds every read the loaders make when the code is read (so the comparison below misses none)', () => {
    const read = new Set<string>();
    const recording = new Proxy(
      {},
      {
        get: (_, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadSettings(recording);
    loadPipelineSettings(recording);
    loadOperatorSettings(recording);
    loadKubernetesSettings(recording, '/nonexistent');
    const inCode = namesInCode();
    assert.ok(read.size > 20, `the loaders read ${read.size} names`);
    assert.deepEqual(
      [...read].filter((name) => !inCode.has(name)),
      [],
      'names the loaders read that the scan of the code does not find',
    );
  });

  it('documents every setting the code reads, and documents nothing it does not read', () => {
    const inCode = namesInCode();
    const inDocs = namesInDocs();
    assert.deepEqual([...inCode].filter((name) => !inDocs.has(name)).sort(), [], 'read by the code, missing from docs/configuration.md');
    assert.deepEqual([...inDocs].filter((name) => !inCode.has(name)).sort(), [], 'in docs/configuration.md, never read by the code');
  });
});

describe('docs/operations.md and the metrics the service exports', () => {
  it("documents every metric of its own (not Node's process metrics), and no other", () => {
    const exported = createMetrics()
      .registry.getMetricsAsArray()
      .map((metric) => metric.name)
      .filter((name) => !name.startsWith('process_') && !name.startsWith('nodejs_'));
    const page = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');
    const table = page.slice(page.indexOf('## Metrics'), page.indexOf('\n## ', page.indexOf('## Metrics') + 1));
    const documented = new Set(
      [...table.matchAll(/`([a-z_]+)(?:\{[^}]*\})?`/g)].map((match) => match[1]!).filter((name) => /^(webhook|triage|tw)_/.test(name)),
    );
    assert.deepEqual(exported.filter((name) => !documented.has(name)).sort(), [], 'exported, missing from the table');
    const names = new Set(exported);
    assert.deepEqual([...documented].filter((name) => !names.has(name) && !name.startsWith('process_')).sort(), [], 'in the table, not exported');
  });
});
