import type { apiKeyJson } from '../wire/api-key.js';
import { SCOPES } from '../apikeys/api-key.js';
import type { Command } from './command.js';
import { EXIT, usageError } from './exit-codes.js';
import { wholeNumberFlag } from './list-flags.js';
import { printDocument, printItems, type Column } from './output.js';

type ApiKeyJson = ReturnType<typeof apiKeyJson>;

const API_KEY_COLUMNS: Column<ApiKeyJson>[] = [
  { header: 'ID', value: (key) => key.id },
  { header: 'NAME', value: (key) => key.name },
  { header: 'SCOPES', value: (key) => key.scopes },
  { header: 'CREATED', value: (key) => key.created_at },
  { header: 'EXPIRES', value: (key) => key.expires_at ?? 'never' },
  { header: 'LAST-USED', value: (key) => key.last_used_at ?? 'never' },
];

export const apiKeyCommands: Command[] = [
  {
    path: ['apikey', 'create'],
    args: ['name'],
    summary: 'Create an API key; its token is shown once and cannot be shown again',
    details: [
      'The token is the only line on stdout, so TOKEN=$(tw-cli apikey create ci --scope webhooks:read) captures it;',
      'the key id and the shown-once notice go to stderr. -o json prints the key with its token.',
    ],
    flags: {
      scope: { type: 'string', multiple: true, choices: SCOPES, placeholder: 'S', description: 'a scope the key holds (repeatable)' },
      scopes: { type: 'string', placeholder: 'a,b', description: 'scopes, comma-separated' },
      'expires-in-days': { type: 'string', placeholder: 'N', description: 'expire after N days (default: never)' },
    },
    async run(ctx, values, [name]) {
      const scopes = [...((values.scope as string[] | undefined) ?? []), ...((values.scopes as string | undefined)?.split(',') ?? [])]
        .map((scope) => scope.trim())
        .filter(Boolean);
      if (scopes.length === 0) throw usageError(`give at least one --scope (${SCOPES.join(', ')})`);
      const days = wholeNumberFlag(values, 'expires-in-days');
      const created = await ctx.client.post<ApiKeyJson & { token: string }>('/api/apikeys', {
        name,
        scopes,
        ...(days !== undefined && { expires_in_days: Number(days) }),
      });
      if (ctx.outputGiven && ctx.output !== 'table') return (printDocument(ctx.write, ctx.output, created), EXIT.ok);
      ctx.write(`${created.token}\n`);
      ctx.note(
        `API key '${created.name}' created: id ${created.id}, scopes ${created.scopes.join(',')}, expires ${created.expires_at ?? 'never'}. ` +
          `The token above is shown once: store it now (revoke with tw-cli apikey revoke ${created.id}).\n`,
      );
      return EXIT.ok;
    },
  },
  {
    path: ['apikey', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List API keys (never their tokens)',
    flags: {},
    async run(ctx) {
      const list = await ctx.client.get<{ items: ApiKeyJson[] }>('/api/apikeys');
      printItems(ctx.write, ctx.output, list.items, API_KEY_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['apikey', 'revoke'],
    aliases: ['delete', 'rm'],
    args: ['id'],
    summary: 'Revoke an API key',
    flags: {},
    async run(ctx, _values, [id]) {
      await ctx.client.delete(`/api/apikeys/${encodeURIComponent(id!)}`);
      ctx.write(`API key '${id}' revoked\n`);
      return EXIT.ok;
    },
  },
];
