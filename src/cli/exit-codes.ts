/** What scripts can rely on (docs/cli.md). */
export const EXIT = {
  ok: 0,
  /** The API answered with an error, or something unexpected happened. */
  error: 1,
  /** The command line is wrong (unknown command or flag, missing argument). */
  usage: 2,
  /** The thing asked for does not exist (404). */
  notFound: 3,
  /** No or wrong API key (401), or the key lacks the scope (403). */
  auth: 4,
  /** The API could not be reached. */
  unreachable: 5,
  /** `webhook test`: the API answered, and the test event was rejected. */
  testRejected: 6,
  /** `store check`: the check ran and found damage (the report says where). */
  damaged: 7,
} as const;

/** A failure the CLI reports as one line on stderr and an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(`${message} (see --help)`, EXIT.usage);
}
