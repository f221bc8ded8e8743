import type { deliveryJson } from '../wire/delivery.js';
import type { apiKeyJson } from '../wire/api-key.js';
import { SCOPES } from '../apikeys/api-key.js';
import { OCSF_MEDIA_TYPE, OCSF_VERSION } from '../wire/ocsf.js';
import type { Command, CommandContext } from './command.js';
import { EXIT, usageError } from './exit-codes.js';
import { cell, printDocument, printItems, type Column } from './output.js';

type DeliveryJson = ReturnType<typeof deliveryJson>;
type ApiKeyJson = ReturnType<typeof apiKeyJson>;

interface IncidentJson {
  incident_id: string;
  incident_number: string;
  source: string;
  severity: string;
  title: string;
  status: string;
  received_at: string;
}

const DELIVERY_COLUMNS: Column<DeliveryJson>[] = [
  { header: 'TIME', value: (record) => record.at },
  { header: 'SOURCE', value: (record) => record.source },
  { header: 'STATUS', value: (record) => record.status },
  { header: 'CODE', value: (record) => record.code ?? (record.status < 300 ? 'ok' : undefined) },
  { header: 'LATENCY', value: (record) => `${record.latency_ms.toFixed(1)}ms` },
  { header: 'INCIDENT', value: (record) => record.incident_id ?? record.queue_id },
  { header: 'REMOTE', value: (record) => record.remote_address },
];

const INCIDENT_COLUMNS: Column<IncidentJson>[] = [
  { header: 'NUMBER', value: (incident) => incident.incident_number },
  { header: 'SOURCE', value: (incident) => incident.source },
  { header: 'SEVERITY', value: (incident) => incident.severity },
  { header: 'STATUS', value: (incident) => incident.status },
  { header: 'RECEIVED', value: (incident) => incident.received_at },
  { header: 'TITLE', value: (incident) => incident.title },
];

const API_KEY_COLUMNS: Column<ApiKeyJson>[] = [
  { header: 'ID', value: (key) => key.id },
  { header: 'NAME', value: (key) => key.name },
  { header: 'SCOPES', value: (key) => key.scopes },
  { header: 'CREATED', value: (key) => key.created_at },
  { header: 'EXPIRES', value: (key) => key.expires_at ?? 'never' },
  { header: 'LAST-USED', value: (key) => key.last_used_at ?? 'never' },
];

function query(entries: Record<string, string | undefined>): string {
  const params = new URLSearchParams(Object.entries(entries).filter((entry): entry is [string, string] => entry[1] !== undefined));
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** One delivery per line as they come (`--follow`), in the chosen format: table rows or JSON lines. */
async function followLogs(ctx: CommandContext, path: string): Promise<number> {
  const response = await ctx.client.open(path, 'text/event-stream');
  const decoder = new TextDecoder();
  let buffered = '';
  let headerPrinted = false;
  for await (const chunk of response.body!) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const event = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const data = event.split('\n').find((line) => line.startsWith('data: '));
      if (!data) continue;
      const record = JSON.parse(data.slice('data: '.length)) as DeliveryJson;
      if (ctx.output === 'table') {
        // Rows of a stream cannot be aligned to rows not seen yet: tab-separated, header once.
        if (!headerPrinted) ctx.write(`${DELIVERY_COLUMNS.map((column) => column.header).join('\t')}\n`);
        headerPrinted = true;
        ctx.write(`${DELIVERY_COLUMNS.map((column) => cell(column.value(record))).join('\t')}\n`);
      } else ctx.write(`${JSON.stringify(record)}\n`);
    }
  }
  return EXIT.ok;
}

export const readCommands: Command[] = [
  {
    path: ['logs'],
    args: [],
    summary: 'Show webhook deliveries (accepted and rejected, with their codes and latency), oldest first',
    flags: [
      '--filter webhook   the log to show (webhook deliveries, the only one kept)',
      '--tail N           the last N records (default 100, at most 1000)',
      '--source S         only this source',
      '--follow, -f       keep printing new records as they arrive',
    ],
    options: { filter: { type: 'string' }, tail: { type: 'string' }, source: { type: 'string' }, follow: { type: 'boolean', short: 'f' } },
    async run(ctx, values) {
      const filter = (values.filter as string | undefined) ?? 'webhook';
      if (filter !== 'webhook') throw usageError("--filter must be 'webhook'");
      const tail = values.tail as string | undefined;
      if (tail !== undefined && !/^[0-9]+$/.test(tail)) throw usageError('--tail must be a whole number');
      const path = `/api/logs${query({ filter, tail, source: values.source as string | undefined, follow: values.follow ? 'true' : undefined })}`;
      if (values.follow) return followLogs(ctx, path);
      const log = await ctx.client.get<{ items: DeliveryJson[] }>(path);
      printItems(ctx.write, ctx.output, log.items, DELIVERY_COLUMNS, log);
      return EXIT.ok;
    },
  },
  {
    path: ['incident', 'list'],
    aliases: [['incidents']],
    args: [],
    summary: 'List incidents, newest first',
    flags: ['--source S  --severity S  --status S  --limit N'],
    options: { source: { type: 'string' }, severity: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } },
    async run(ctx, values) {
      const page = await ctx.client.get<{ items: IncidentJson[]; next: string | null }>(
        `/api/incidents${query({ source: values.source as string, severity: values.severity as string, status: values.status as string, limit: values.limit as string })}`,
      );
      printItems(ctx.write, ctx.output, page.items, INCIDENT_COLUMNS, page);
      return EXIT.ok;
    },
  },
  {
    path: ['incident', 'get'],
    args: ['id-or-number'],
    summary: 'Show one incident (by id or INC-yyyy-nnnn)',
    flags: [`-o ocsf   the incident as an OCSF ${OCSF_VERSION} Detection Finding (JSON)`],
    options: {},
    representations: { ocsf: OCSF_MEDIA_TYPE },
    async run(ctx, _values, [id]) {
      const incident = await ctx.client.get<IncidentJson>(`/api/incidents/${encodeURIComponent(id!)}`, ctx.accept);
      printDocument(ctx.write, ctx.output === 'table' ? 'yaml' : ctx.output, incident);
      return EXIT.ok;
    },
  },
  {
    path: ['apikey', 'create'],
    args: ['name'],
    summary: 'Create an API key; its token is printed once and cannot be shown again',
    flags: [`--scope S (repeatable) or --scopes a,b   ${SCOPES.join(', ')}`, '--expires-in-days N                      no expiry when absent'],
    options: { scope: { type: 'string', multiple: true }, scopes: { type: 'string' }, 'expires-in-days': { type: 'string' } },
    async run(ctx, values, [name]) {
      const scopes = [...((values.scope as string[] | undefined) ?? []), ...((values.scopes as string | undefined)?.split(',') ?? [])]
        .map((scope) => scope.trim())
        .filter(Boolean);
      if (scopes.length === 0) throw usageError(`at least one --scope (${SCOPES.join(', ')})`);
      const days = values['expires-in-days'] as string | undefined;
      if (days !== undefined && !/^[0-9]+$/.test(days)) throw usageError('--expires-in-days must be a whole number');
      const created = await ctx.client.post<ApiKeyJson & { token: string }>('/api/apikeys', {
        name,
        scopes,
        ...(days !== undefined && { expires_in_days: Number(days) }),
      });
      if (ctx.outputGiven && ctx.output !== 'table') printDocument(ctx.write, ctx.output, created);
      else ctx.write(`${created.token}\n`);
      return EXIT.ok;
    },
  },
  {
    path: ['apikey', 'list'],
    args: [],
    summary: 'List API keys (never their tokens)',
    flags: [],
    options: {},
    async run(ctx) {
      const list = await ctx.client.get<{ items: ApiKeyJson[] }>('/api/apikeys');
      printItems(ctx.write, ctx.output, list.items, API_KEY_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['apikey', 'revoke'],
    aliases: [['apikey', 'delete']],
    args: ['id'],
    summary: 'Revoke an API key',
    flags: [],
    options: {},
    async run(ctx, _values, [id]) {
      await ctx.client.delete(`/api/apikeys/${encodeURIComponent(id!)}`);
      ctx.write(`API key '${id}' revoked\n`);
      return EXIT.ok;
    },
  },
];
