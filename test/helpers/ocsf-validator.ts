/**
 * The OCSF validator written by others (pydantic-ocsf, in the virtualenv scripts/ocsf-validator.sh
 * makes): validates documents as OCSF 1.7.0 Detection Findings. A missing validator fails the
 * test with the command that installs it; it never skips.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const REQUIREMENTS = join(ROOT, 'test/ocsf/requirements.txt');
const SCRIPT = join(ROOT, 'test/ocsf/validate_detection_finding.py');

function validatorPython(): string {
  const digest = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex').slice(0, 12);
  const venv = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tw-webhooks', `ocsf-validator-${digest}`);
  if (!existsSync(join(venv, 'installed'))) {
    throw new Error(
      `The OCSF validator is not installed in ${venv}: run scripts/ocsf-validator.sh ` +
        `(python3 -m venv ${venv} && ${venv}/bin/pip install --no-deps -r test/ocsf/requirements.txt)`,
    );
  }
  return join(venv, 'bin', 'python');
}

/** Each document's problems, in order: an empty list for a valid Detection Finding. */
export function ocsfProblems(documents: readonly unknown[]): string[][] {
  const input = documents.map((document) => JSON.stringify(document)).join('\n');
  const output = execFileSync(validatorPython(), [SCRIPT], { input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return output
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as string[]);
}
