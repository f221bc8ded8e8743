import type { ParseArgsConfig } from 'node:util';
import type { ApiClient } from './client.js';
import type { OutputFormat } from './output.js';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command gets to work with; tests and main build it the same way. */
export interface CommandContext {
  client: ApiClient;
  output: OutputFormat;
  /** The media type to ask the API for: `application/json`, or one of the command's `representations`. */
  accept: string;
  /** true when -o/--output was given (commands whose default is not a table check it). */
  outputGiven: boolean;
  write: (text: string) => void;
  /** All of standard input, for secrets and bodies that stay out of shell history. */
  readStdin: () => Promise<Buffer>;
  env: NodeJS.ProcessEnv;
}

export interface Command {
  /** e.g. ['webhook', 'add']; aliases are other full paths. */
  path: readonly string[];
  aliases?: readonly (readonly string[])[];
  /** `<source>`-style names of the required positional arguments. */
  args: readonly string[];
  summary: string;
  /** Lines describing the flags, for --help. */
  flags: readonly string[];
  options: OptionSpecs;
  /**
   * `-o` values besides table/json/yaml this command takes, each with the media type it asks the
   * API for; the answer is printed as JSON (e.g. `-o ocsf`).
   */
  representations?: Readonly<Record<string, string>>;
  /** Resolves to the exit code. */
  run(ctx: CommandContext, values: OptionValues, args: readonly string[]): Promise<number>;
}
