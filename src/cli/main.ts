#!/usr/bin/env node
/**
 * tw-cli: the tw-webhooks API from a terminal or a script, in the manner of kubectl, flux and gh.
 * `TW_API_URL` (default http://localhost:8080) and `TW_API_TOKEN` say where and as whom; exit codes
 * are documented in docs/cli.md (and exit-codes.ts).
 */
import { parseArgs } from 'node:util';
import { ApiClient } from './client.js';
import type { Command, CommandContext } from './command.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';
import { webhookCommands } from './webhook-commands.js';
import { readCommands } from './read-commands.js';

const COMMANDS: readonly Command[] = [...webhookCommands, ...readCommands];

const GLOBAL_OPTIONS = {
  output: { type: 'string', short: 'o' },
  'api-url': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const GLOBAL_HELP = [
  `-o, --output ${OUTPUT_FORMATS.join('|')}   output format (default table)`,
  '--api-url URL                 the API (default $TW_API_URL or http://localhost:8080)',
  '-h, --help                    help for the command',
];

const EXIT_HELP = [
  `${EXIT.ok} ok; ${EXIT.error} API error or unexpected failure; ${EXIT.usage} usage; ${EXIT.notFound} not found;`,
  `${EXIT.auth} no/wrong API key or missing scope; ${EXIT.unreachable} API unreachable; ${EXIT.testRejected} test event rejected`,
];

/** The command the leading words name, and how many words that took. */
function findCommand(words: readonly string[]): { command: Command; pathLength: number } | undefined {
  for (const command of COMMANDS) {
    for (const path of [command.path, ...(command.aliases ?? [])]) {
      if (path.every((word, index) => words[index] === word)) return { command, pathLength: path.length };
    }
  }
  return undefined;
}

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.path.join(' ').length));
  return [
    'tw-cli: manage tw-webhooks sources, API keys, incidents and delivery logs',
    '',
    'Usage: tw-cli <command> [args] [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.path.join(' ').padEnd(width)}   ${command.summary}`),
    '',
    'Global flags:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
    '',
    'Environment: TW_API_URL, TW_API_TOKEN (an API key, tw_…)',
    'Exit codes:',
    ...EXIT_HELP.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

function commandHelp(command: Command): string {
  const args = command.args.map((arg) => `<${arg}>`).join(' ');
  return [
    command.summary,
    '',
    `Usage: tw-cli ${command.path.join(' ')}${args ? ` ${args}` : ''} [flags]`,
    ...(command.aliases?.length ? [`Aliases: ${command.aliases.map((alias) => alias.join(' ')).join(', ')}`] : []),
    ...(command.flags.length ? ['', 'Flags:', ...command.flags.map((line) => `  ${line}`)] : []),
    '',
    'Global flags:',
    ...GLOBAL_HELP.map((line) => `  ${line}`),
    '',
    'Exit codes:',
    ...EXIT_HELP.map((line) => `  ${line}`),
    '',
  ].join('\n');
}

/** `--auto-triage true|false` as the spec writes it, besides the bare flag. */
function normalizeBooleanValues(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    const inline = /^--auto-triage=(true|false)$/.exec(arg)?.[1];
    const next = args[index + 1];
    if (inline !== undefined) out.push(inline === 'true' ? '--auto-triage' : '--no-auto-triage');
    else if (arg === '--auto-triage' && (next === 'true' || next === 'false')) {
      out.push(next === 'true' ? '--auto-triage' : '--no-auto-triage');
      index++;
    } else out.push(arg);
  }
  return out;
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, write: (text: string) => void): Promise<number> {
  const firstFlag = argv.findIndex((arg) => arg.startsWith('-'));
  const words = firstFlag === -1 ? argv : argv.slice(0, firstFlag);
  const found = findCommand(words);
  if (!found) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h') || argv[0] === 'help') {
      write(overview());
      return argv.length === 0 ? EXIT.usage : EXIT.ok;
    }
    throw usageError(`unknown command '${words.slice(0, 2).join(' ')}'`);
  }
  const { command, pathLength } = found;
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeBooleanValues(argv.slice(pathLength)),
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw usageError((error as Error).message);
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) {
    write(commandHelp(command));
    return EXIT.ok;
  }
  if (parsed.positionals.length !== command.args.length) {
    throw usageError(`tw-cli ${command.path.join(' ')} takes ${command.args.map((arg) => `<${arg}>`).join(' ') || 'no arguments'}`);
  }
  const output = (values.output as string | undefined) ?? 'table';
  const representation = command.representations?.[output];
  const formats = [...OUTPUT_FORMATS, ...Object.keys(command.representations ?? {})];
  if (!formats.includes(output)) throw usageError(`--output must be one of ${formats.join(', ')}`);
  const context: CommandContext = {
    client: new ApiClient({
      baseUrl: (values['api-url'] as string | undefined) ?? env.TW_API_URL ?? 'http://localhost:8080',
      token: env.TW_API_TOKEN?.trim() || undefined,
    }),
    output: representation === undefined ? (output as OutputFormat) : 'json',
    accept: representation ?? 'application/json',
    outputGiven: values.output !== undefined,
    write,
    readStdin,
    env,
  };
  return command.run(context, values, parsed.positionals);
}

try {
  process.exitCode = await runCli(process.argv.slice(2), process.env, (text) => process.stdout.write(text));
} catch (error) {
  if (error instanceof CliError) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT.error;
  }
}
