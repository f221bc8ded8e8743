/**
 * The examples of README.md and docs/*.md as the docs-as-tests run reads them (test/e2e/docs-examples.test.ts).
 * Pure: markdown in, steps and expectations out; the test runs them.
 *
 * How a page is written so that its examples run:
 * - Every ```bash (or ```sh) block runs, in page order, in one shell session per page. A block that
 *   cannot run in a test says why in an HTML comment right above it: `<!-- not run: <reason> -->`;
 *   the run prints each reason.
 * - A block is split into steps: commands, then the `# …` lines right after them, which are the
 *   commands' expected output (a comment line after a blank line, or before any command, is only a
 *   comment). `# {…}` / `# […]` lines are JSON, other lines text.
 * - A ```json or ```text block right after a bash block (nothing but blank lines between) is the
 *   expected output of that block's last step.
 * - Expected output is matched loosely: `…` stands for anything; ids, incident numbers, times and
 *   API keys match any value of their shape; numbers match any number; a JSON object must have
 *   exactly the keys shown unless it shows `"…": "…"`; an array ending in `…` may go on.
 * - Every other ```json block must be JSON (with `…` placeholders); ```yaml blocks must be YAML.
 */

export interface Fence {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  text: string;
  /** The reason given in `<!-- not run: … -->` above the block. */
  notRun: string | undefined;
  /** Only blank lines between this block and the previous block's closing fence. */
  followsBlock: boolean;
}

const FENCE = /^```\s*([\w-]*)/;
const NOT_RUN = /^<!--\s*not run:\s*(.+?)\s*-->$/;

/** The fenced blocks of a markdown page, with what the lines above each say about it. */
export function fencesOf(page: string, markdown: string): Fence[] {
  const lines = markdown.split('\n');
  const fences: Fence[] = [];
  let lastClose = -2;
  for (let index = 0; index < lines.length; index++) {
    const open = FENCE.exec(lines[index]!);
    if (!open) continue;
    const start = index;
    const body: string[] = [];
    for (index++; index < lines.length && !lines[index]!.startsWith('```'); index++) body.push(lines[index]!);
    let above = start - 1;
    while (above >= 0 && lines[above]!.trim() === '') above--;
    const notRun = above >= 0 ? NOT_RUN.exec(lines[above]!.trim())?.[1] : undefined;
    fences.push({ page, line: start + 1, lang: open[1]!.toLowerCase(), text: body.join('\n'), notRun, followsBlock: above === lastClose });
    lastClose = index;
  }
  return fences;
}

export const SHELL_LANGS = ['bash', 'sh', 'shell'];
export const OUTPUT_LANGS = ['json', 'text', 'console'];

export type Expectation = { kind: 'json'; text: string } | { kind: 'text'; text: string };

export interface Step {
  page: string;
  /** 1-based line in the page of the step's first command. */
  line: number;
  /** The shell text to run, as written. */
  script: string;
  /** How many commands it holds (a continued line or a here-document is one). */
  commands: number;
  expected: Expectation[];
}

/** One logical shell line: continuation lines and here-documents joined. */
interface Unit {
  kind: 'blank' | 'comment' | 'command';
  text: string;
  line: number;
}

const HEREDOC = /<<-?\s*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/;

function unitsOf(fence: Fence): Unit[] {
  const lines = fence.text.split('\n');
  const units: Unit[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = fence.line + 1 + index;
    let text = lines[index]!;
    const trimmed = text.trim();
    if (trimmed === '') {
      units.push({ kind: 'blank', text, line });
      continue;
    }
    if (trimmed.startsWith('#')) {
      units.push({ kind: 'comment', text: trimmed.replace(/^#\s?/, ''), line });
      continue;
    }
    while (text.endsWith('\\') && index + 1 < lines.length) text += `\n${lines[++index]!}`;
    const heredoc = HEREDOC.exec(text);
    if (heredoc) {
      const end = heredoc[2]!;
      while (index + 1 < lines.length) {
        text += `\n${lines[++index]!}`;
        if (lines[index]!.trim() === end) break;
      }
    }
    units.push({ kind: 'command', text, line });
  }
  return units;
}

/** The steps of a shell block: commands and the output expected of them. */
export function stepsOf(fence: Fence): Step[] {
  const steps: Step[] = [];
  let commands: Unit[] = [];
  let expected: Expectation[] = [];
  /** What the previous line was: a comment after a command (or after its output) is output. */
  let previous: 'blank' | 'comment' | 'command' | 'output' = 'blank';
  const close = () => {
    if (commands.length > 0)
      steps.push({ page: fence.page, line: commands[0]!.line, script: commands.map((unit) => unit.text).join('\n'), commands: commands.length, expected });
    commands = [];
    expected = [];
  };
  for (const unit of unitsOf(fence)) {
    if (unit.kind === 'command') {
      if (expected.length > 0) close();
      commands.push(unit);
      previous = 'command';
    } else if (unit.kind === 'comment') {
      if (previous === 'command' || previous === 'output') {
        expected.push({ kind: /^[[{]/.test(unit.text) ? 'json' : 'text', text: unit.text });
        previous = 'output';
      } else previous = 'comment';
    } else {
      close();
      previous = 'blank';
    }
  }
  close();
  return steps;
}

/** A ```json or ```text block that shows the output of the block above it. */
export function outputBlockExpectations(fence: Fence): Expectation[] {
  if (fence.lang === 'json') return [{ kind: 'json', text: fence.text }];
  return fence.text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => ({ kind: 'text', text: line }));
}

/** `…` where JSON needs a value becomes the string "…", so an example with placeholders parses. */
export function parseLooseJson(text: string): unknown {
  const quoted = text.replace(/("(?:[^"\\]|\\.)*")|…/g, (match, string: string | undefined) => string ?? '"…"');
  return JSON.parse(quoted);
}

const MASKS: [RegExp, string][] = [
  [/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>'],
  [/INC-\d{4}-\d{4,}/g, 'INC-<number>'],
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g, '<time>'],
  [/tw_[A-Za-z0-9_-]{43}/g, 'tw_<key>'],
  [/\b\d{10}\b/g, '<unix-seconds>'],
];

/** Ids, numbers, times and keys replaced by their shape, so two runs compare equal. */
function mask(text: string): string {
  let masked = text;
  for (const [pattern, replacement] of MASKS) masked = masked.replace(pattern, replacement);
  return masked;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A masked text with `…` as a wildcard, as a whole-string pattern. */
function loosePattern(expected: string): RegExp {
  return new RegExp(`^${mask(expected).split('…').map(escapeRegExp).join('.*')}$`, 's');
}

/** Where `actual` differs from `expected` (see the rules above), or undefined when it matches. */
export function jsonMismatch(expected: unknown, actual: unknown, path = '$'): string | undefined {
  if (expected === '…') return undefined;
  if (typeof expected === 'string') {
    if (typeof actual !== 'string') return `${path}: expected a string, got ${JSON.stringify(actual)}`;
    return loosePattern(expected).test(mask(actual)) ? undefined : `${path}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  if (typeof expected === 'number') return typeof actual === 'number' ? undefined : `${path}: expected a number, got ${JSON.stringify(actual)}`;
  if (expected === null || typeof expected === 'boolean')
    return expected === actual ? undefined : `${path}: expected ${expected}, got ${JSON.stringify(actual)}`;
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return `${path}: expected an array, got ${JSON.stringify(actual)?.slice(0, 200)}`;
    const open = expected.at(-1) === '…';
    const shown = open ? expected.slice(0, -1) : expected;
    if (open ? actual.length < shown.length : actual.length !== shown.length)
      return `${path}: expected ${shown.length}${open ? ' or more' : ''} items, got ${actual.length}`;
    for (const [index, item] of shown.entries()) {
      const problem = jsonMismatch(item, actual[index], `${path}[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  if (typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual))
      return `${path}: expected an object, got ${JSON.stringify(actual)?.slice(0, 200)}`;
    const shown = Object.keys(expected).filter((key) => key !== '…');
    const open = Object.keys(expected).includes('…');
    const missing = shown.filter((key) => !(key in actual));
    if (missing.length > 0) return `${path}: missing ${missing.join(', ')}`;
    const extra = Object.keys(actual).filter((key) => !shown.includes(key));
    if (!open && extra.length > 0) return `${path}: not in the docs: ${extra.join(', ')}`;
    for (const key of shown) {
      const problem = jsonMismatch((expected as Record<string, unknown>)[key], (actual as Record<string, unknown>)[key], `${path}.${key}`);
      if (problem) return problem;
    }
    return undefined;
  }
  return `${path}: cannot compare ${JSON.stringify(expected)}`;
}

/** The JSON documents in a command's output: the whole output, or one per line. */
function jsonValuesIn(output: string): unknown[] {
  const whole = output.trim();
  try {
    return [JSON.parse(whole)];
  } catch {
    const values: unknown[] = [];
    for (const line of output.split('\n')) {
      const trimmed = line.trim();
      if (!/^[[{]/.test(trimmed)) continue;
      try {
        values.push(JSON.parse(trimmed));
      } catch {
        // not JSON after all
      }
    }
    return values;
  }
}

/**
 * Checks a step's output against its expectations, in order: each JSON expectation must match a
 * JSON document of the output, each text line a line of the output (spaces collapsed), each after
 * the previous one's match. Returns the problems.
 */
export function outputProblems(expected: readonly Expectation[], output: string): string[] {
  const problems: string[] = [];
  const documents = jsonValuesIn(output);
  const lines = output.split('\n').map((line) => line.trim().replace(/\s+/g, ' '));
  let documentAt = 0;
  let lineAt = 0;
  for (const expectation of expected) {
    if (expectation.kind === 'json') {
      let wanted: unknown;
      try {
        wanted = parseLooseJson(expectation.text);
      } catch (error) {
        problems.push(`the expected output is not JSON: ${expectation.text} (${(error as Error).message})`);
        continue;
      }
      const reasons: string[] = [];
      const found = documents.findIndex((document, index) => {
        if (index < documentAt) return false;
        const reason = jsonMismatch(wanted, document);
        if (reason) reasons.push(reason);
        return reason === undefined;
      });
      if (found === -1) problems.push(`expected ${expectation.text}\n  ${reasons.length ? reasons.join('\n  ') : 'no JSON in the output'}`);
      else documentAt = found + 1;
    } else {
      const pattern = loosePattern(expectation.text.trim().replace(/\s+/g, ' '));
      const found = lines.findIndex((line, index) => index >= lineAt && pattern.test(mask(line)));
      if (found === -1) problems.push(`expected a line ${JSON.stringify(expectation.text)}`);
      else lineAt = found + 1;
    }
  }
  return problems;
}
