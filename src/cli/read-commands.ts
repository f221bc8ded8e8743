import type { deliveryJson } from '../wire/delivery.js';
import type { auditJson } from '../wire/audit.js';
import type { Command, CommandContext } from './command.js';
import { EXIT, usageError } from './exit-codes.js';
import { LIMIT_FLAG, query, wholeNumberFlag } from './list-flags.js';
import { cell, printDocument, printFields, printItems, type Column } from './output.js';

type DeliveryJson = ReturnType<typeof deliveryJson>;
type AuditJson = ReturnType<typeof auditJson>;

/** What a webhook answer meant, by its status: the contract gives each success its own status. */
function outcome(record: DeliveryJson): string {
  if (record.code) return record.code;
  if (record.status === 201) return 'created';
  if (record.status === 200) return 'duplicate';
  if (record.status === 202) return 'queued';
  return String(record.status);
}

const DELIVERY_COLUMNS: Column<DeliveryJson>[] = [
  { header: 'TIME', value: (record) => record.at },
  { header: 'SOURCE', value: (record) => record.source },
  { header: 'STATUS', value: (record) => record.status },
  { header: 'OUTCOME', value: outcome },
  { header: 'LATENCY', value: (record) => `${record.latency_ms.toFixed(1)}ms` },
  { header: 'INCIDENT', value: (record) => record.incident_number ?? record.queue_id },
  { header: 'REMOTE', value: (record) => record.remote_address },
];

interface TriageRequestJson {
  request_id: string;
  incident_number: string;
  source: string;
  playbook: string | null;
  state: string;
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  dispatched_at: string | null;
}

const TRIAGE_COLUMNS: Column<TriageRequestJson>[] = [
  { header: 'INCIDENT', value: (request) => request.incident_number },
  { header: 'SOURCE', value: (request) => request.source },
  { header: 'PLAYBOOK', value: (request) => request.playbook },
  { header: 'STATE', value: (request) => request.state },
  { header: 'ATTEMPTS', value: (request) => request.attempts },
  { header: 'NEXT-ATTEMPT', value: (request) => request.next_attempt_at },
  { header: 'DISPATCHED', value: (request) => request.dispatched_at },
  { header: 'LAST-ERROR', value: (request) => request.last_error },
];

const AUDIT_COLUMNS: Column<AuditJson>[] = [
  { header: 'TIME', value: (record) => record.at },
  { header: 'ACTION', value: (record) => record.action },
  { header: 'TARGET', value: (record) => record.target },
  { header: 'KEY', value: (record) => `${record.actor.key_name} (${record.actor.key_id})` },
  { header: 'KUBERNETES-USER', value: (record) => record.actor.kubernetes_user },
  { header: 'DETAILS', value: (record) => JSON.stringify(record.details) },
];

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
      const lines = event.split('\n');
      const data = lines.find((line) => line.startsWith('data: '));
      if (!data) continue;
      if (lines.includes('event: end')) {
        // The service ends a stream that had nothing to send for a long time (TW_FOLLOW_IDLE_SECONDS).
        const { idle_seconds: idleSeconds } = JSON.parse(data.slice('data: '.length)) as { idle_seconds?: number };
        ctx.note(`warning: the log stream was idle for ${idleSeconds ?? '?'} s and the API ended it; run the command again to keep following\n`);
        return EXIT.ok;
      }
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
    summary: 'Show webhook deliveries (accepted and rejected, with their outcome and latency), oldest first',
    flags: {
      filter: { type: 'string', choices: ['webhook'], placeholder: 'F', description: 'the log to show (webhook deliveries, the only one kept)' },
      tail: { type: 'string', placeholder: 'N', description: 'the last N records (default 100, at most 1000)' },
      source: { type: 'string', placeholder: 'S', description: 'only this source' },
      follow: { type: 'boolean', short: 'f', description: 'keep printing new records as they arrive' },
    },
    async run(ctx, values) {
      const filter = (values.filter as string | undefined) ?? 'webhook';
      const tail = wholeNumberFlag(values, 'tail');
      const path = `/api/logs${query({ filter, tail, source: values.source as string | undefined, follow: values.follow === true ? 'true' : undefined })}`;
      if (values.follow === true) return followLogs(ctx, path);
      const log = await ctx.client.get<{ items: DeliveryJson[] }>(path);
      printItems(ctx.write, ctx.output, log.items, DELIVERY_COLUMNS, log);
      return EXIT.ok;
    },
  },
  {
    path: ['delivery', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List webhook deliveries, newest first',
    flags: { source: { type: 'string', placeholder: 'S', description: 'only this source' }, ...LIMIT_FLAG },
    async run(ctx, values) {
      const page = await ctx.client.get<{ items: DeliveryJson[] }>(
        `/api/deliveries${query({ source: values.source as string | undefined, limit: wholeNumberFlag(values, 'limit') })}`,
      );
      printItems(ctx.write, ctx.output, page.items, DELIVERY_COLUMNS, page);
      return EXIT.ok;
    },
  },
  {
    path: ['triage', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List auto-triage requests: pending (waiting for the runner), dispatched or failed',
    flags: {
      state: { type: 'string', choices: ['pending', 'dispatched', 'failed'], placeholder: 'S', description: 'which requests (default pending)' },
      ...LIMIT_FLAG,
    },
    async run(ctx, values) {
      const page = await ctx.client.get<{ items: TriageRequestJson[] }>(
        `/api/triage/requests${query({ state: values.state as string | undefined, limit: wholeNumberFlag(values, 'limit') })}`,
      );
      printItems(ctx.write, ctx.output, page.items, TRIAGE_COLUMNS, page);
      return EXIT.ok;
    },
  },
  {
    path: ['audit', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'Who changed which API key or registered source, and when, newest first (admin)',
    flags: {
      limit: { type: 'string', placeholder: 'N', description: 'at most N records (default 100, at most 1000)' },
      target: { type: 'string', placeholder: 'T', description: 'only the changes to one key id or source' },
    },
    async run(ctx, values) {
      const list = await ctx.client.get<{ items: AuditJson[] }>(
        `/api/audit${query({ limit: wholeNumberFlag(values, 'limit'), target: values.target as string | undefined })}`,
      );
      printItems(ctx.write, ctx.output, list.items, AUDIT_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['queue', 'get'],
    args: ['queue-id'],
    summary: 'Show where a delivery answered 202 queued is: queued, processing, done (with its incident) or dead',
    flags: {},
    async run(ctx, _values, [id]) {
      if (!id!.startsWith('queue-')) throw usageError(`a queue id looks like queue-<uuid>, as the 202 answer gives it; got '${id}'`);
      const entry = await ctx.client.get<Record<string, unknown>>(`/api/queue/${encodeURIComponent(id!)}`);
      if (ctx.output === 'table') printFields(ctx.write, Object.entries(entry));
      else printDocument(ctx.write, ctx.output, entry);
      return EXIT.ok;
    },
  },
];
