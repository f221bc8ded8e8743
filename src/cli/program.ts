import { readFileSync } from 'node:fs';
import { Command as CommanderCommand, CommanderError, Option } from 'commander';
import tab from '@bomb.sh/tab/commander';
import { ApiClient } from './client.js';
import type { Command, CommandContext, FlagSpec, FlagValues } from './command.js';
import { CliError, EXIT, usageError } from './exit-codes.js';
import { OUTPUT_FORMATS, type OutputFormat } from './output.js';

export const DEFAULT_API_URL = 'http://localhost:8080';

/** The package's version, as `tw-cli --version` prints it. */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What the first word of a two-word command is about, for `tw-cli --help`. */
const GROUPS: Record<string, string> = {
  webhook: 'Webhook sources: register, change, test, sign events',
  incident: 'Incidents: list, show, acknowledge, resolve',
  triage: 'The auto-triage outbox: requests waiting for, sent to or refused by the playbook runner',
  queue: 'Deliveries queued for processing (202 queued)',
  delivery: 'The delivery log: every webhook request, accepted or rejected',
  apikey: 'API keys and their scopes',
};

const EXIT_HELP = `Exit codes:
  ${EXIT.ok} ok             ${EXIT.error} API error or unexpected failure   ${EXIT.usage} usage (unknown command or flag, bad value)
  ${EXIT.notFound} not found      ${EXIT.auth} no/wrong API key or missing scope  ${EXIT.unreachable} API unreachable
  ${EXIT.testRejected} webhook test: the test event was rejected`;

const ENV_HELP = `Environment:
  TW_API_URL    the API (default ${DEFAULT_API_URL}); host:port, or a URL with a path prefix
  TW_API_TOKEN  an API key (tw_…)`;

export interface CliIo {
  write: (text: string) => void;
  note: (text: string) => void;
  noteIsTerminal: boolean;
  readStdin: () => Promise<Buffer>;
}

const camel = (name: string) => name.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

function commanderOption(name: string, spec: FlagSpec): Option[] {
  const short = spec.short ? `-${spec.short}, ` : '';
  if (spec.type === 'boolean') {
    const flag = new Option(`${short}--${name}${spec.optionalValue ? ' [true|false]' : ''}`, spec.description);
    return [flag, new Option(`--no-${name}`, `not --${name}`).hideHelp()];
  }
  const option = new Option(`${short}--${name} <${spec.placeholder ?? 'value'}>`, spec.description);
  if (spec.choices) option.choices(spec.choices);
  if (spec.multiple) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  return [option];
}

/** A flag's value as the command reads it; `--x true|false` as a boolean. */
function flagValue(name: string, spec: FlagSpec, raw: unknown): string | boolean | string[] | undefined {
  if (raw === undefined || spec.type !== 'boolean') return raw as string | string[] | undefined;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw usageError(`--${name} takes true or false, got '${typeof raw === 'string' ? raw : JSON.stringify(raw)}'`);
}

/** `error: … ` lines of commander as one line that says where to look. */
function oneLine(text: string, commandName: string): string {
  const message = text
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\(Did you mean (.+)\?\)/, '(did you mean $1?)');
  return `${message}; see '${commandName} --help'`;
}

/**
 * The tw-cli program: one commander command per entry of `commands` (`webhook add` under
 * `webhook`), the global flags on the root so they go anywhere on the line, `--version`, and
 * `completion bash|zsh|fish|powershell` from the same tree.
 */
export function buildProgram(commands: readonly Command[], env: NodeJS.ProcessEnv, io: CliIo, exit: { code: number }) {
  // -o takes the common formats and every representation some command offers (`incident get -o ocsf`).
  const outputs = [...new Set([...OUTPUT_FORMATS, ...commands.flatMap((command) => Object.keys(command.representations ?? {}))])];
  const program = new CommanderCommand('tw-cli')
    .description('Manage tw-webhooks sources, incidents, the triage outbox, queued deliveries, the delivery log and API keys')
    .version(VERSION, '--version', 'print the version')
    .addOption(new Option('-o, --output <format>', 'output format (default: table)').choices(outputs))
    .option('--api-url <url>', `the API (default: $TW_API_URL or ${DEFAULT_API_URL})`)
    .helpOption('-h, --help', 'help for a command')
    .addHelpCommand(false)
    .showHelpAfterError(false)
    .addHelpText('after', `\n${ENV_HELP}\n\n${EXIT_HELP}\n`)
    .configureOutput({ writeOut: io.write, writeErr: io.note })
    .exitOverride();

  const groups = new Map<string, CommanderCommand>();
  for (const command of commands) {
    let parent = program;
    for (const word of command.path.slice(0, -1)) {
      let group = groups.get(word);
      if (!group) {
        group = parent.command(word).description(GROUPS[word] ?? word);
        groups.set(word, group);
      }
      parent = group;
    }
    const sub = parent.command(command.path.at(-1)!).description(command.summary);
    for (const alias of command.aliases ?? []) sub.alias(alias);
    for (const arg of command.args) sub.argument(`<${arg}>`);
    for (const [name, spec] of Object.entries(command.flags)) for (const option of commanderOption(name, spec)) sub.addOption(option);
    if (command.details?.length) sub.addHelpText('after', `\n${command.details.join('\n')}\n`);
    sub.action(async (...params: unknown[]) => {
      const self = params.at(-1) as CommanderCommand;
      const args = params.slice(0, command.args.length) as string[];
      const values: FlagValues = {};
      for (const [name, spec] of Object.entries(command.flags)) {
        const value = flagValue(name, spec, self.getOptionValue(camel(name)));
        if (value !== undefined) values[name] = value;
      }
      const globals = self.optsWithGlobals<{ output?: string; apiUrl?: string }>();
      const output = globals.output ?? 'table';
      const representation = command.representations?.[output];
      if (representation === undefined && !(OUTPUT_FORMATS as readonly string[]).includes(output)) {
        const own = [...OUTPUT_FORMATS, ...Object.keys(command.representations ?? {})].join(', ');
        throw usageError(`-o ${output} is not an output of 'tw-cli ${command.path.join(' ')}': ${own}`);
      }
      const ctx: CommandContext = {
        client: new ApiClient({ baseUrl: globals.apiUrl ?? (env.TW_API_URL?.trim() || DEFAULT_API_URL), token: env.TW_API_TOKEN?.trim() || undefined }),
        output: representation === undefined ? (output as OutputFormat) : 'json',
        accept: representation ?? 'application/json',
        outputGiven: globals.output !== undefined,
        write: io.write,
        note: io.note,
        noteIsTerminal: io.noteIsTerminal,
        readStdin: io.readStdin,
        env,
      };
      exit.code = await command.run(ctx, values, args);
    });
  }

  const completion = tab(program, { completionCommandName: 'completion' });

  // Every command reports commander's errors in one line naming its own --help.
  const configure = (command: CommanderCommand, name: string) => {
    command.configureOutput({ writeOut: io.write, writeErr: io.note, outputError: (text, write) => write(`error: ${oneLine(text, name)}\n`) });
    command.exitOverride();
    for (const sub of command.commands) configure(sub, `${name} ${sub.name()}`);
  };
  configure(program, 'tw-cli');
  return { program, completion };
}

/** What an exception from parsing or a command means as an exit code (commander's own are usage errors, or help). */
export function exitCodeOf(error: unknown): number | undefined {
  if (error instanceof CliError) return error.exitCode;
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    return EXIT.usage;
  }
  return undefined;
}
