import { components, type Component } from './state.js';

/**
 * The servers a test file uses, from a header line near its top: `// servers: kube, mongo` or
 * `// servers: none`. A file under test/unit uses none; any other file without the line gets all
 * of them, so a new file is never run without the servers it may need.
 */
export function serversOf(file: string, text: string): Component[] {
  const declared = /^\/\/ servers: *(.*)$/m.exec(text.split('\n').slice(0, 30).join('\n'));
  if (!declared) return file.includes('test/unit/') ? [] : [...components];
  const names = declared[1]!
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
  for (const name of names) {
    if (!(components as readonly string[]).includes(name)) {
      throw new Error(`${file}: unknown server '${name}' in its servers line (known: ${components.join(', ')}, none)`);
    }
  }
  return names as Component[];
}
