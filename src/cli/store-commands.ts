import type { IntegrityReport } from '../store/store.js';
import type { Command, CommandContext, FlagSpecs, FlagValues } from './command.js';
import { EXIT } from './exit-codes.js';
import { LIMIT_FLAG, query, TIME_FLAGS, timeFlag, wholeNumberFlag } from './list-flags.js';
import { FORMATS } from '../incidents/model.js';
import { JOB_KINDS } from '../jobs/job.js';
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

const NO_WAIT_FLAG: FlagSpecs = {
  'no-wait': { type: 'boolean', description: 'print the started job and return (follow it with `tw-cli job get <id> --wait`)' },
};

/**
 * A started job's answer: by default followed to its end with progress on stderr, then its report
 * (or error) and an exit code that says how it ended; with --no-wait the started job at once.
 */
async function answerJob(ctx: CommandContext, values: FlagValues, started: JobJson): Promise<number> {
  const job = values['no-wait'] ? started : await followJob(ctx, started);
  if (ctx.outputGiven || job.state === 'running') printDocument(ctx.write, ctx.output === 'table' ? 'yaml' : ctx.output, job);
  else if (job.state === 'done') printDocument(ctx.write, 'yaml', { job_id: job.job_id, ...job.report });
  if (job.state === 'failed') ctx.note(`error: ${job.kind} ${job.job_id} failed: ${job.error}\n`);
  return job.state === 'failed' ? EXIT.error : EXIT.ok;
}

export const storeCommands: Command[] = [
  {
    path: ['store', 'check'],
    args: [],
    summary: `Run the store's full integrity check now; exit ${EXIT.damaged} when it finds damage`,
    flags: {},
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
    flags: NO_WAIT_FLAG,
    async run(ctx, values) {
      return answerJob(ctx, values, await ctx.client.post<JobJson>('/api/store/backup'));
    },
  },
  {
    path: ['incident', 'renormalize'],
    args: [],
    summary: "Re-run today's normalizers over stored raw bodies (after a mapping fix); ids, numbers and received times never change",
    details: [
      'Examples:',
      '  tw-cli incident renormalize --source edr --since 7d --dry-run',
      '  tw-cli incident renormalize --source edr --since 7d --requeue-triage',
    ],
    flags: {
      source: { type: 'string', placeholder: 'S', description: 'only this source (its settings of today are applied)' },
      format: { type: 'string', choices: FORMATS, placeholder: 'F', description: 'only incidents stored in this format' },
      ...TIME_FLAGS,
      'dry-run': { type: 'boolean', description: 'count what would change, and which fields, without writing' },
      'requeue-triage': { type: 'boolean', description: 'queue the incidents that change for triage again' },
      ...NO_WAIT_FLAG,
    },
    async run(ctx, values) {
      const range = { source: values.source, format: values.format, since: timeFlag(values, 'since'), until: timeFlag(values, 'until') };
      const body = { ...range, dry_run: values['dry-run'] === true, requeue_triage: values['requeue-triage'] === true };
      return answerJob(ctx, values, await ctx.client.post<JobJson>('/api/store/renormalize', body));
    },
  },
  {
    path: ['job', 'list'],
    aliases: ['ls'],
    args: [],
    summary: 'List admin jobs (backup, renormalize), newest first',
    flags: { kind: { type: 'string', choices: JOB_KINDS, placeholder: 'K', description: 'only jobs of this kind' }, ...LIMIT_FLAG },
    async run(ctx, values) {
      const list = await ctx.client.get<{ items: JobJson[] }>(
        `/api/jobs${query({ kind: values.kind as string | undefined, limit: wholeNumberFlag(values, 'limit') })}`,
      );
      printItems(ctx.write, ctx.output, list.items, JOB_COLUMNS, list);
      return EXIT.ok;
    },
  },
  {
    path: ['job', 'get'],
    args: ['id'],
    summary: 'Show an admin job; --wait follows it to its end',
    flags: { wait: { type: 'boolean', description: 'draw its progress until it ends; exit 1 if it failed' } },
    async run(ctx, values, [id]) {
      const job = await ctx.client.get<JobJson>(`/api/jobs/${encodeURIComponent(id!)}`);
      if (values.wait) return answerJob(ctx, {}, job);
      if (ctx.output === 'table') printItems(ctx.write, 'table', [job], JOB_COLUMNS);
      else printDocument(ctx.write, ctx.output, job);
      return EXIT.ok;
    },
  },
];
