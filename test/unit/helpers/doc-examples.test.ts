import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fencesOf, jsonMismatch, outputProblems, parseLooseJson, stepsOf } from '../../helpers/doc-examples.js';

const PAGE = [
  '# A page',
  '',
  '```bash',
  '# set up',
  'export A=1',
  'curl -X POST http://x \\',
  '  -d "{}"',
  '# {"status":"accepted","incident_number":"INC-2026-0001"}',
  'cat <<EOF',
  'a line',
  'EOF',
  '',
  '# a comment of its own',
  'echo done',
  '```',
  '',
  '```json',
  '{"done": true}',
  '```',
  '',
  '<!-- not run: needs a real cluster -->',
  '```bash',
  'kubectl get pods',
  '```',
].join('\n');

describe('reading the examples of a page', () => {
  it('finds blocks, their not-run reasons and the output blocks that follow them', () => {
    const fences = fencesOf('page.md', PAGE);
    assert.deepEqual(
      fences.map((fence) => [fence.lang, fence.line, fence.notRun, fence.followsBlock]),
      [
        ['bash', 3, undefined, false],
        ['json', 17, undefined, true],
        ['bash', 22, 'needs a real cluster', false],
      ],
    );
  });

  it('splits a block into steps: commands, then the comment lines right after them as their output', () => {
    const steps = stepsOf(fencesOf('page.md', PAGE)[0]!);
    assert.deepEqual(
      steps.map((step) => [step.line, step.commands, step.expected]),
      [
        [5, 2, [{ kind: 'json', text: '{"status":"accepted","incident_number":"INC-2026-0001"}' }]],
        [9, 1, []],
        [14, 1, []],
      ],
    );
    assert.equal(steps[0]!.script, 'export A=1\ncurl -X POST http://x \\\n  -d "{}"');
    assert.equal(steps[1]!.script, 'cat <<EOF\na line\nEOF');
  });
});

describe('matching output loosely', () => {
  it('masks ids, numbers and times, and takes … for anything', () => {
    const expected = parseLooseJson('{"id":"key-…","scopes":[…],"n":"INC-2026-0001","at":"2026-01-01T00:00:00Z","count":1}');
    assert.equal(jsonMismatch(expected, { id: 'key-9', scopes: ['a'], n: 'INC-2031-0412', at: '2031-05-06T07:08:09.123Z', count: 7 }), undefined);
    assert.match(jsonMismatch(expected, { id: 'key-9', scopes: [], n: 'INC-2031-0412', at: 'later', count: 7 })!, /\$\.at/);
  });

  it('requires exactly the keys shown unless the object shows "…"', () => {
    assert.match(jsonMismatch({ a: 1 }, { a: 1, b: 2 })!, /not in the docs: b/);
    assert.match(jsonMismatch({ a: 1, b: 2 }, { a: 1 })!, /missing b/);
    assert.equal(jsonMismatch(parseLooseJson('{"a":1,"…":"…"}'), { a: 1, b: 2 }), undefined);
  });

  it('finds expected lines and documents in order, tables with any spacing', () => {
    const output = 'NUMBER   SOURCE\nINC-2027-0001   edr\n{"ok":true}\n';
    assert.deepEqual(
      outputProblems(
        [
          { kind: 'text', text: 'NUMBER SOURCE' },
          { kind: 'text', text: 'INC-2026-0001 edr' },
          { kind: 'json', text: '{"ok":true}' },
        ],
        output,
      ),
      [],
    );
    assert.equal(outputProblems([{ kind: 'text', text: 'INC-2026-0001 siem' }], output).length, 1);
    assert.equal(outputProblems([{ kind: 'json', text: '{"ok":false}' }], output).length, 1);
  });
});
