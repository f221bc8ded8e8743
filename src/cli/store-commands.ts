import type { IntegrityReport } from '../store/store.js';
import type { Command, CommandContext, OptionValues } from './command.js';
import { EXIT, usageError } from './exit-codes.js';
import { FORMATS } from '../incidents/model.js';
import { followJob, progressText, type JobJson } from './jobs.js';
import { printDocument, printItems, type Column } from './output.js';

const JOB_COLUMNS: Column<JobJson>[] = [
  { header: 'ID', value: (job) => job.job_id },
  { header: 'KIND', value: (job) => job.kind },
  { header: 'STATE', value: (job) => job.state },
  { header: 'PROGRESS', value: (job) => progressText(job) },
  { header: 'CREATED', value: (job) => job.created_at },
  { header: 'FINISHED', value: (job) => job.finished_at },
];

const WAIT_FLAGS = { 'no-wait': { type: 'boolean' } } as const;

/**
 * A started job's answer: by default followed to its end with progress on stderr, then its report
 * (or error) and an exit code that says how it ended; with --no-wait the started job at once.
 */
export async function answerJob(ctx: CommandContext, values: OptionValues, started: JobJson): Promise<number> {
  const job = values['no-wait'] ? started : await followJob(ctx, started);
  if (ctx.outputGiven || job.state === 'running') printDocument(ctx.write, ctx.output === 'table' ? 'yaml' : ctx.output, job);
  else if (job.state === 'done') printDocument(ctx.write, 'yaml', { job_id: job.job_id, ...job.report });
  if (job.state === 'failed') ctx.progress.write(`error: ${job.kind} ${job.job_id} failed: ${job.error}\n`);
  return job.state === 'failed' ? EXIT.error : EXIT.ok;
}

export const storeCommands: Command[] = [
  {
    path: ['store', 'check'],
    args: [],
    summary: `Run the store's full integrity check now; exit ${EXIT.damaged} when it finds damage`,
    flags: [],
    options: {},
    async run(ctx) {
      const report = await ctx.client.post<IntegrityReport>('/api/store/integrity-check');
      const columns: Column<IntegrityReport['parts'][number]>[] = [
        { header: 'PART', value: (part) => part.name },
        { header: 'OK', value: (part) => (part.ok ? 'ok' : 'DAMAGED') },
        {
          header: 'PROBLEMS',
          value: (part) => part.problems.slice(0, 3).join('; ') + (part.problems.length > 3 ? ` (+${part.problems.length - 3} more)` : ''),
        },
      ];
      printItems(ctx.write, ctx.output, report.parts, columns, report);
      return report.ok ? EXIT.ok : EXIT.damaged;
    },
  },
  {
    path: ['store', 'backup'],
    args: [],
    summary: 'Back up the embedded store online into TW_BACKUP_DIR on the server, showing its progress',
    flags: ['--no-wait   print the started job and return (follow it with `tw-cli job get <id> --wait`)'],
    options: WAIT_FLAGS,
    async run(ctx, values) {
      return answerJob(ctx, values, await ctx.client.post<JobJson>('/api/store/backup'));
    },
  },
  {
    path: ['incident', 'renormalize'],
    args: [],
    summary: "Re-run today's normalizers over stored raw bodies (after a mapping fix); ids, numbers and received times never change",
    flags: [
      '--source S        only this source (its settings of today are applied)',
      `--format F        only incidents stored in this format (${FORMATS.join('|')})`,
      '--since T         received at or after this ISO time',
      '--until T         received before this ISO time',
      '--dry-run         count what would change, and which fields, without writing',
      '--requeue-triage  queue the incidents that change for triage again',
      '--no-wait         print the started job and return',
    ],
    options: {
      source: { type: 'string' },
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'requeue-triage': { type: 'boolean' },
      ...WAIT_FLAGS,
    },
    async run(ctx, values) {
      const format = values.format as string | undefined;
      if (format !== undefined && !(FORMATS as readonly string[]).includes(format)) throw usageError(`--format must be one of ${FORMATS.join(', ')}`);
      const range = Object.fromEntries(
        (['source', 'since', 'until'] as const).filter((name) => values[name] !== undefined).map((name) => [name, values[name]]),
      );
      const body = {
        ...range,
        ...(format !== undefined && { format }),
        dry_run: values['dry-run'] === true,
        requeue_triage: values['requeue-triage'] === true,
      };
      return answerJob(ctx, values, await ctx.client.post<JobJson>('/api/store/renormalize', body));
    },
  },
  {
    path: ['job', 'list'],
    aliases: [['jobs']],
    args: [],
    summary: 'List admin jobs (backup, renormalize), newest first',
    flags: ['--kind backup|renormalize  --limit N'],
    options: { kind: { type: 'string' }, limit: { type: 'string' } },
    async run(ctx, values) {
      const params = new URLSearchParams(
        Object.entries({ kind: values.kind, limit: values.limit }).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ).toString();
      const list = await ctx.client.get<{ items: JobJson[] }>(`/api/jobs${params ? `?${params}` : ''}`);
      printItems(ctx.write, ctx.output, list.items, JOB_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['job', 'get'],
    args: ['id'],
    summary: 'Show an admin job; --wait follows it to its end',
    flags: ['--wait   draw its progress until it ends; exit 1 if it failed'],
    options: { wait: { type: 'boolean' } },
    async run(ctx, values, [id]) {
      const job = await ctx.client.get<JobJson>(`/api/jobs/${encodeURIComponent(id!)}`);
      if (values.wait) return answerJob(ctx, {}, job);
      if (ctx.output === 'table') printItems(ctx.write, 'table', [job], JOB_COLUMNS);
      else printDocument(ctx.write, ctx.output, job);
      return EXIT.ok;
    },
  },
];
