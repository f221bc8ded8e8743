import { setTimeout as sleep } from 'node:timers/promises';
import type { jobJson } from '../wire/job.js';
import type { CommandContext } from './command.js';

export type JobJson = ReturnType<typeof jobJson>;

const POLL_MS = 500;
const BAR_WIDTH = 30;
/** Without a terminal, a line at most this often (and at each tenth done). */
const LINE_EVERY_MS = 10_000;

/** `45% (1,260/2,800 pages)`, or what is known before the total is. */
export function progressText(job: JobJson): string {
  const { done, total, unit } = job.progress;
  if (!total) return `${done.toLocaleString('en-US')} ${unit}`;
  return `${Math.floor((100 * done) / total)}% (${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${unit})`;
}

/**
 * Polls a job until it has ended and returns it, drawing its progress on stderr: a bar redrawn in
 * place on a terminal; otherwise a line at each further tenth or every 10 s, so logs of scripts stay short.
 */
export async function followJob(ctx: CommandContext, started: JobJson): Promise<JobJson> {
  let job = started;
  let lastTenth = -1;
  let lastLineAt = 0;
  for (;;) {
    const { done, total } = job.progress;
    if (ctx.noteIsTerminal) {
      const filled = total ? Math.round((BAR_WIDTH * Math.min(done, total)) / total) : 0;
      ctx.note(`\r${job.kind} ${job.job_id} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${progressText(job)}\x1b[K`);
    } else {
      const tenth = total ? Math.floor((10 * done) / total) : -1;
      if (tenth > lastTenth || Date.now() - lastLineAt >= LINE_EVERY_MS) {
        ctx.note(`${job.kind} ${job.job_id}: ${job.state === 'running' ? '' : `${job.state} `}${progressText(job)}\n`);
        lastTenth = tenth;
        lastLineAt = Date.now();
      }
    }
    if (job.state !== 'running') break;
    await sleep(POLL_MS);
    job = await ctx.client.get<JobJson>(`/api/jobs/${encodeURIComponent(job.job_id)}`);
  }
  if (ctx.noteIsTerminal) ctx.note('\n');
  return job;
}
