#!/usr/bin/env node
/**
 * tw-cli: the tw-webhooks API from a terminal or a script, in the manner of kubectl, flux and gh.
 * `TW_API_URL` (default http://localhost:8080) and `TW_API_TOKEN` say where and as whom; flags go
 * anywhere on the line; exit codes and the JSON output are documented in docs/cli.md.
 */
import { ApiClient } from './client.js';
import type { Command } from './command.js';
import { CliError, EXIT } from './exit-codes.js';
import { buildProgram, DEFAULT_API_URL, exitCodeOf, type CliIo } from './program.js';
import { webhookCommands } from './webhook-commands.js';
import { readCommands } from './read-commands.js';
import { incidentCommands } from './incident-commands.js';
import { apiKeyCommands } from './apikey-commands.js';
import { storeCommands } from './store-commands.js';

export const COMMANDS: readonly Command[] = [...webhookCommands, ...incidentCommands, ...readCommands, ...apiKeyCommands, ...storeCommands];

/** Commands whose `<source>` argument completes to the names the API serves. */
const SOURCE_ARGUMENT = /^webhook (get|update|remove|test)$/;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The source names for completion, if the API answers quickly; completion never waits long or fails. */
async function sourceNames(env: NodeJS.ProcessEnv): Promise<string[]> {
  try {
    const client = new ApiClient({ baseUrl: env.TW_API_URL?.trim() || DEFAULT_API_URL, token: env.TW_API_TOKEN?.trim() || undefined });
    const list = await Promise.race([
      client.get<{ items: { source: string }[] }>('/api/webhooks'),
      new Promise<never>((_, fail) => setTimeout(() => fail(new Error('slow')), 500).unref()),
    ]);
    return list.items.map((item) => item.source);
  } catch {
    return [];
  }
}

export async function runCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: CliIo): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const { program, completion } = buildProgram(COMMANDS, env, io, exit);
  if (argv[0] === 'complete' && argv[1] === '--') {
    const names = await sourceNames(env);
    for (const [path, command] of completion.commands) {
      const argument = command.arguments.get('source');
      if (argument && SOURCE_ARGUMENT.test(path)) argument.handler = (complete) => names.forEach((name) => complete(name, ''));
    }
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const code = exitCodeOf(error);
    if (code === undefined) throw error;
    // commander has printed its own errors; ours are printed here, in one line.
    if (error instanceof CliError) io.note(`error: ${error.message}\n`);
    return code;
  }
  return exit.code;
}

try {
  process.exitCode = await runCli(process.argv.slice(2), process.env, {
    write: (text) => process.stdout.write(text),
    note: (text) => process.stderr.write(text),
    noteIsTerminal: process.stderr.isTTY === true,
    readStdin,
  });
} catch (error) {
  process.stderr.write(`error: ${(error as Error).message ?? String(error)}\n`);
  process.exitCode = EXIT.error;
}
