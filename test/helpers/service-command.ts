/**
 * How the service is run for real: `npm start`'s node flags, which the image's CMD repeats (a static
 * test keeps the two equal) and the bench uses, so the bench measures what users run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

/** The node flags between `node` and `dist/main.js` in package.json's `start` script. */
export function serviceNodeFlags(): string[] {
  const { scripts } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const command = /(?:^|&& )node ((?:--\S+ )*)dist\/main\.js$/.exec(scripts.start ?? '');
  if (!command) throw new Error(`package.json's start script does not end in 'node [flags] dist/main.js': ${scripts.start}`);
  return command[1]!.trim().split(' ').filter(Boolean);
}

/** The image's exec-form CMD, as the Dockerfile writes it. */
export function imageCommand(): string[] {
  const cmd = /^CMD (\[.*\])$/m.exec(readFileSync(join(root, 'Dockerfile'), 'utf8'));
  if (!cmd) throw new Error('the Dockerfile has no exec-form CMD');
  return JSON.parse(cmd[1]!) as string[];
}
