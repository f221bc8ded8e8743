import type { ApiClient } from './client.js';
import type { OutputFormat } from './output.js';

/** A flag of one command; its name is the long flag without `--`. */
export interface FlagSpec {
  /** `string` takes a value; `boolean` is a switch (`--no-<name>` turns it off). */
  type: 'string' | 'boolean';
  description: string;
  short?: string;
  /** Repeatable (`--scope a --scope b`): the values arrive as an array. */
  multiple?: boolean;
  /** The only values allowed; also what shell completion offers. */
  choices?: readonly string[];
  /** How the value is named in --help, e.g. `N` or `RFC3339|1h`. */
  placeholder?: string;
  /** A boolean that also takes `true` or `false` as its value, as the spec writes `--auto-triage true`. */
  optionalValue?: boolean;
}

export type FlagSpecs = Record<string, FlagSpec>;
/** Parsed flags by their spec names (kebab-case), only those given. */
export type FlagValues = Record<string, string | boolean | string[] | undefined>;

/** What a command gets to work with; tests and main build it the same way. */
export interface CommandContext {
  client: ApiClient;
  output: OutputFormat;
  /** The media type to ask the API for: `application/json`, or one of the command's `representations`. */
  accept: string;
  /** true when -o/--output was given (commands whose default is not a table check it). */
  outputGiven: boolean;
  /** Standard output: the result. */
  write: (text: string) => void;
  /** Standard error: notes beside the result (more pages, a token shown once, a job's progress) that scripts do not parse. */
  note: (text: string) => void;
  /** Whether standard error is a terminal: a job's progress is a bar redrawn in place there, else a line now and then. */
  noteIsTerminal: boolean;
  /** All of standard input, for secrets and bodies that stay out of shell history. */
  readStdin: () => Promise<Buffer>;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** e.g. ['webhook', 'add']. */
  path: readonly string[];
  /** Other names of the last word, e.g. ['ls'] for `webhook list`. */
  aliases?: readonly string[];
  /** Names of the required positional arguments, e.g. ['source']. */
  args: readonly string[];
  summary: string;
  /** Lines shown under the flags in --help: examples, what the output holds. */
  details?: readonly string[];
  flags: FlagSpecs;
  /**
   * `-o` values besides table/json/yaml this command takes, each with the media type it asks the
   * API for; the answer is printed as JSON (e.g. `-o ocsf`).
   */
  representations?: Readonly<Record<string, string>>;
  /** Resolves to the exit code. */
  run(ctx: CommandContext, values: FlagValues, args: readonly string[]): Promise<number>;
}
